"""Example utterances per skill: what the semantic tier learns from and what `agent help` shows.

Written by hand, in many phrasings; none is copied from the evaluation set.
"""

from __future__ import annotations

__all__ = ["EXAMPLES"]

EXAMPLES: dict[str, list[str]] = {
    "system.status": [
        "system status", "how's the machine doing", "give me a system overview", "is my laptop ok",
        "cpu load right now", "how busy is the processor", "processor usage", "ram usage",
        "how much ram is free", "memory status", "free disk space", "how full is my hard drive",
        "storage left on my drive", "battery status", "how much charge do I have", "is the battery charging",
        "cpu temperature", "how hot is the computer", "network status", "am I connected to the internet",
        "network speed right now", "check my pc health", "what's the load on this computer",
    ],
    "system.top": [
        "top processes", "what is eating my cpu", "what's hogging memory", "biggest memory users",
        "list the heaviest processes", "which apps use the most ram", "show the top 3 processes",
        "what programs are slowing my computer", "processes sorted by cpu", "what's using all my processor",
        "top ten memory hungry programs",
    ],
    "process.kill": [
        "kill chrome", "force quit slack", "end the zoom process", "close spotify process", "kill pid 1234",
        "terminate the python process", "stop process 999", "shut down the frozen program vlc",
        "end task for teams", "kill the process called node",
    ],
    "command.run": [
        "run uptime", "show how much space each drive uses", "list what's in my home folder",
        "show my ip addresses", "what's my ip address", "how long since the last reboot",
        "show me the files in the documents directory", "clear old temp files", "clean up temporary files",
        "who is logged in", "which ports are open on this machine", "show the kernel version",
        "run the disk usage command", "show folder contents of pictures",
    ],
    "command.fix": [
        "correct this command: gti status", "fix the typo in sl -la", "what should I have typed instead of pyhton",
        "I mistyped a command: dokcer ps", "fix: git comit -m message", "the command cd.. didn't work, fix it",
        "autocorrect my shell command npm isntall", "did you mean for sudo apt-get udpate",
    ],
    "apps.open": [
        "open chrome", "start spotify", "launch vs code", "open the calculator", "bring up the file manager",
        "open my email", "start the text editor", "open github.com", "go to wikipedia.org",
        "open the settings app", "run gimp", "open the downloads folder", "fire up the browser",
    ],
    "files.search": [
        "search my documents for invoices", "find the file about the budget", "look for my resume",
        "where did I save the contract", "find documents mentioning the lease", "search files for project plan",
        "which file talks about vacation planning", "locate the presentation on marketing",
        "find my files about insurance", "search for meeting minutes from march",
    ],
    "files.index": [
        "index my home folder", "scan the projects directory so I can search it", "add ~/work to the search index",
        "reindex my files", "index the folder /data/reports", "make my pictures folder searchable",
        "update the file index for documents",
    ],
    "time.now": [
        "what's the time", "tell me the time", "current time please", "what day is it", "what's today's date",
        "what is the date", "time please", "do you know what time it is", "which day of the week is it",
        "what month is it",
    ],
    "math.calc": [
        "what's 7 plus 8", "compute 3 to the power of 4", "what is the square root of 144", "how much is 250 minus 75",
        "calculate 18 percent of 250", "12 times 12", "divide 1000 by 25", "what's 2 + 2",
        "evaluate 3 * (4 + 5)", "what is 99 divided by 3", "multiply 6 by 7",
    ],
    "timer.set": [
        "timer 10 minutes", "set a 3 minute timer", "count down 30 seconds", "start a timer for an hour",
        "set timer for 2 hours", "give me a 45 second countdown", "timer for one and a half minutes",
        "wake me in 25 minutes with a timer", "start a pomodoro timer for 25 minutes",
    ],
    "reminder.add": [
        "remind me to water the plants at 6pm", "remind me tomorrow at 9 to send the report",
        "set a reminder for 3pm to join the meeting", "in an hour remind me to stretch",
        "reminder: pay rent on friday", "don't let me forget to take my pills at 8", "remind me in 10 minutes to call bob",
        "set a reminder to buy bread tonight at 7",
    ],
    "notes.add": [
        "note: call the plumber", "write down that the meeting moved to thursday", "jot down pick up dry cleaning",
        "make a note to renew my passport", "add a note saying dinner at 8", "save a note: server ip is 10.0.0.5",
        "remember that my locker number is 42", "new note: ideas for the blog",
    ],
    "notes.search": [
        "find my note about the plumber", "search my notes for passport", "what notes do I have about the blog",
        "did I take a note about the meeting", "look up my notes on recipes", "show notes mentioning alice",
        "what was in my note about the server",
    ],
    "timetrack.start": [
        "start tracking project zeus", "clock in on the website redesign", "begin timing work on thesis",
        "track time for client acme", "start the clock on apollo", "I'm starting work on the report project",
        "start a time entry for marketing",
    ],
    "timetrack.stop": [
        "stop tracking", "clock out", "stop the time tracker", "I'm done working", "end the current time entry",
        "pause time tracking", "stop timing my work",
    ],
    "timetrack.report": [
        "time report for this week", "how long did I work on apollo", "show my tracked hours this month",
        "how many hours did I log today", "time tracking summary", "what did I work on this week",
        "export my timesheet",
    ],
    "password.generate": [
        "new password please", "create a strong password", "give me a random 16 character password",
        "generate a secure passphrase", "I need a new random password", "make a 32 character password without symbols",
    ],
    "password.get": [
        "get my email password", "copy the password for netflix", "what is the wifi password",
        "show my bank password", "I need my amazon password", "password for gitlab",
    ],
    "password.save": [
        "save a password for twitter", "store my new bank password", "remember this password for dropbox",
        "add a password entry for the router", "save the password for my work laptop",
    ],
    "finance.expense_add": [
        "I paid 30 euros for a taxi", "log 15 dollars for coffee", "expense 200 for rent", "spent 8.99 on a movie",
        "add 60 dollars groceries", "record an expense of 22 for gas", "bought a book for 14 dollars",
        "I just spent 5 bucks on parking",
    ],
    "finance.report": [
        "spending report", "what did I spend this week", "show my expenses for the month",
        "how much money did I spend on food", "expense summary for this year", "where is my money going",
        "export my expenses",
    ],
    "music.control": [
        "play music", "resume the song", "pause", "skip this track", "previous track", "go back a song",
        "louder", "volume down", "turn it down", "play the next one", "stop the music", "unpause the music",
        "make the music quieter", "toggle playback",
    ],
    "security.scan": [
        "scan for security problems", "check my computer for vulnerabilities", "security check",
        "am I protected", "do a security audit", "look for open ports and weak settings", "is the firewall on",
    ],
    "health.alerts": [
        "any warnings", "show alerts", "what alerts fired today", "did anything go wrong",
        "any health warnings", "show recent notifications from the monitor", "were there problems recently",
    ],
    "tools.recommend": [
        "what's a good tool for disk cleanup", "recommend a program to edit pdfs", "which app can I use for screenshots",
        "suggest software for gpu monitoring", "best tool to benchmark my disk", "what should I install to record my screen",
        "I need something to manage my passwords", "recommend a tool for monitoring temperatures",
    ],
    "agent.help": [
        "help", "what are your skills", "what can I ask you", "how do I use you", "list your commands",
        "what are you able to do", "show me what you can do",
    ],
    "agent.stop": [
        "stop", "be quiet", "shut up", "stop speaking", "enough", "quiet please", "cancel speech", "silence",
    ],
    "agent.mute": [
        "mute the microphone", "stop listening to me", "don't listen", "go to sleep", "mute yourself",
        "turn off the mic", "stop hearing me",
    ],
    "chat": [
        "how are you", "what's the meaning of life", "write a haiku about autumn", "who invented the telephone",
        "what is photosynthesis", "give me a fun fact", "translate hello into french", "what is the capital of peru",
        "summarize the plot of hamlet", "why is the sky blue", "tell me a story", "good morning",
    ],
}
