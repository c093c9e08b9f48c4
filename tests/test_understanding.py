"""Understanding (issue 12): one test per example of the issue, on the real router (templates on hassil and
Home Assistant's sentences, the real MiniLM semantic tier, the real embedded LLM), plus the new timer skills
on a real APScheduler store, and the grounding rule: no argument the user did not say."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

import pytest

from agent.events import ResultState
from agent.pipeline import Pipeline
from agent.router.grounding import grounded, ungrounded_args
from agent.router.topic import is_negated, is_topic_question
from agent.services import Services
from agent.values import parse_duration, parse_when

NOW = datetime(2026, 3, 10, 14, 0)  # a fixed clock: never the wall clock


@pytest.fixture(scope="module")
def router(tmp_path_factory: pytest.TempPathFactory) -> Any:
    import os

    home = tmp_path_factory.mktemp("understanding")
    old = os.environ.get("AGENT_HOME")
    os.environ["AGENT_HOME"] = str(home)
    from agent.services import build_services

    services = build_services()
    router = services.router()
    yield router
    if old is None:
        os.environ.pop("AGENT_HOME", None)
    else:
        os.environ["AGENT_HOME"] = old


def _route(router: Any, text: str) -> Any:
    router.context.last = None
    intent = router.route(text)
    assert not ungrounded_args(intent.args, text) or intent.skill == "chat", intent
    return intent


def _routes_to(router: Any, text: str, skill: str, args: dict[str, Any]) -> Any:
    """Routes `text` to `skill` with at least `args` (and nothing unsaid); returns the intent."""
    intent = _route(router, text)
    assert intent.skill == skill, intent
    assert {k: v for k, v in intent.args.items() if k in args} == args
    return intent


# --- the examples at the top of the issue ------------------------------------------------------------------

@pytest.mark.slow
@pytest.mark.parametrize(
    ("text", "skill", "args"),
    [
        ("how much time is left on my timer", "timer.status", {}),
        ("how does a mechanical kitchen timer actually work", "chat", {}),
        ("what does kill -9 actually do in linux", "chat", {}),
        ("chrome isn't responding, force quit it", "process.kill", {"name": "chrome"}),
        ("pull up the calculator app", "apps.open", {"target": "calculator"}),
        ("set a timer for 2 and a half minutes", "timer.set", {"seconds": 150}),
        ("1 and a half hours timer", "timer.set", {"seconds": 5400}),
        ("set a timer for 1/2 an hour", "timer.set", {"seconds": 1800}),
        ("set a timer for a quarter of an hour", "timer.set", {"seconds": 900}),
        ("jot this down - meeting moved to thursday", "notes.add", {"text": "meeting moved to thursday"}),
        ("add a note test one", "notes.add", {"text": "test one"}),
        ("format my hard drive", "chat", {}),
        ("delete everything in my home folder", "chat", {}),
        ("pause my timer", "timer.pause", {}),
        ("resume timer", "timer.resume", {}),
        ("set the volume to 40", "music.control", {"action": "volume", "level": 40}),
        ("mute", "music.control", {"action": "mute"}),
        ("unmute the sound", "music.control", {"action": "unmute"}),
        ("add eggs to my shopping list", "notes.add", {"text": "eggs", "list": "shopping"}),
        ("never mind", "agent.stop", {}),
        ("who are you", "agent.help", {"topic": "identity"}),
        ("add two minutes to the pizza timer", "timer.adjust", {"seconds": 120, "label": "pizza"}),
        ("take a minute off the timer", "timer.adjust", {"seconds": -60}),
        ("what timers do I have", "timer.list", {"kind": "timer"}),
        ("how long is left on the pizza timer", "timer.status", {"label": "pizza"}),
    ],
)
def test_issue_examples(router: Any, text: str, skill: str, args: dict[str, Any]) -> None:
    intent = _route(router, text)
    assert intent.skill == skill, intent
    for key, value in args.items():
        assert intent.args.get(key) == value, (key, intent.args)
    if skill == "notes.add":
        assert intent.args["text"] == args["text"]  # verbatim: never "test 1", never rewritten


@pytest.mark.slow
@pytest.mark.parametrize("text", ["how much time is left on my timer", "how does a mechanical kitchen timer "
                                  "actually work", "what's a normal CPU temperature", "is it bad to force quit apps",
                                  "what is a firewall"])
def test_questions_never_start_anything(router: Any, text: str) -> None:
    intent = _route(router, text)
    assert intent.skill not in ("timer.set", "process.kill", "security.scan", "system.status"), intent


@pytest.mark.slow
def test_a_request_without_its_argument_asks(router: Any) -> None:
    intent = _route(router, "set a timer")
    assert intent.skill == "timer.set"
    assert intent.question == "How long should the timer run?"
    intent = _route(router, "kill")
    assert intent.skill == "process.kill"
    assert intent.question is not None
    assert "name" not in intent.args


# --- spoken values: one parser ----------------------------------------------------------------------------

@pytest.mark.parametrize(
    ("text", "seconds"),
    [("2 and a half minutes", 150), ("two and a half minutes", 150), ("1 and a half hours", 5400),
     ("1/2 an hour", 1800), ("a quarter of an hour", 900), ("an hour and a quarter", 4500),
     ("three quarters of an hour", 2700), ("half an hour", 1800), ("ninety seconds", 90),
     ("a thirty second", 30), ("1 hour 30 minutes", 5400), ("an hour and ten", 4200), ("a minute and thirty", 90),
     ("three and a half minute", 210), ("two hours and 5 for the roast", 7500), ("5 minutes and 2 timers", 300)],
)
def test_spoken_durations(text: str, seconds: int) -> None:
    assert parse_duration(text) == seconds


def test_spoken_times_use_an_injected_clock() -> None:
    found = parse_when("remind me in two and a half hours to stretch", NOW)
    assert found is not None
    assert found[0] == NOW + timedelta(minutes=150)
    assert found[1] == "remind me to stretch"


# --- grounding --------------------------------------------------------------------------------------------

@pytest.mark.parametrize(
    ("value", "text", "ok"),
    [("chrome", "chrome isn't responding, force quit it", True),
     ("process.kill", "chrome isn't responding, force quit it", False),
     (1234567890123456, "chrome isn't responding, force quit it", False),
     (10, "how much time is left on my timer", False),
     (150, "set a timer for two and a half minutes", True),
     (-60, "take a minute off the timer", True),
     ("app.file.file.file", "pull up the calculator app", False),
     ("Thursday", "meeting moved to thursday", True)],
)
def test_grounding(value: Any, text: str, ok: bool) -> None:
    assert grounded(value, text) is ok


@pytest.mark.parametrize(
    ("text", "topic"),
    [("how do egg timers work", True), ("is it bad to force quit apps", True), ("what is a firewall", True),
     ("what's a normal cpu temperature", True), ("why do programs stop responding", True),
     ("how much memory am i using", False), ("which processes use the most memory", False),
     ("what's the battery level", False)],
)
def test_topic_questions(text: str, topic: bool) -> None:
    assert is_topic_question(text) is topic


@pytest.mark.parametrize(
    ("text", "topic"),
    [("why would a laptop fan spin up at night", True), ("is it ok to close the lid while it updates", True),
     ("are cheap usb drives really reliable", True), ("how hot is too hot for a graphics card", True),
     ("how can i cut down my screen time", True), ("what's a daemon exactly", True),
     ("what's the two minute rule", True), ("tell me an interesting fact about clocks", True),
     ("how does a password manager keep my data safe", True),
     ("why is my laptop so slow", False), ("is my battery charging", False), ("what's my cpu at exactly", False),
     ("how much time is left", False),
     ("how can i tell if my laptop battery needs replacing", True), ("what are the signs that a disk is dying", True),
     ("explain me what is a process in the computer", True), ("how do i take better notes in meetings", True),
     ("what year did the first man go to the moon", True),
     ("my grandson say i should use a password manager, what is this?", True)],
)
def test_question_forms_that_ask_for_knowledge_or_advice(text: str, topic: bool) -> None:
    assert is_topic_question(text) is topic


@pytest.mark.parametrize(
    ("text", "hour", "minute"),
    [("at half past four", 16, 30), ("at a quarter to nine tomorrow", 8, 45), ("at 20 past 6 pm", 18, 20),
     ("at seven o'clock", 19, 0), ("at half seven tomorrow", 7, 30), ("remind me at half four to call", 16, 30)],
)
def test_clock_times_in_words(text: str, hour: int, minute: int) -> None:
    found = parse_when(text, NOW.astimezone())
    assert found is not None
    assert (found[0].hour, found[0].minute) == (hour, minute)


@pytest.mark.parametrize(
    ("text", "when", "rest"),
    [("tomorrow morning", datetime(2026, 3, 11, 9, 0), ""), ("friday evening at 7", datetime(2026, 3, 13, 19, 0), ""),
     ("in the afternoon", datetime(2026, 3, 10, 15, 0), ""), ("tonight at 9", datetime(2026, 3, 10, 21, 0), ""),
     ("say good morning to mom tomorrow", datetime(2026, 3, 11, 9, 0), "say good morning to mom")],
)
def test_parts_of_the_day(text: str, when: datetime, rest: str) -> None:
    found = parse_when(text, NOW.astimezone())
    assert found is not None
    assert found[0].replace(tzinfo=None) == when
    assert found[1] == rest
    assert parse_when("good morning", NOW.astimezone()) is None


@pytest.mark.parametrize(
    ("text", "when", "rest"),
    # NOW is Tuesday 10 March 2026, 14:00
    [("pay rent on the first of the month", datetime(2026, 4, 1, 9, 0), "pay rent"),
     ("on the 15th", datetime(2026, 3, 15, 9, 0), ""), ("on the 3rd of next month", datetime(2026, 4, 3, 9, 0), ""),
     ("call mom on december 5th at 6pm", datetime(2026, 12, 5, 18, 0), "call mom"),
     ("the 2nd of january", datetime(2027, 1, 2, 9, 0), ""), ("march 1", datetime(2027, 3, 1, 9, 0), ""),
     ("the day after tomorrow", datetime(2026, 3, 12, 9, 0), ""), ("next week", datetime(2026, 3, 16, 9, 0), ""),
     ("this weekend", datetime(2026, 3, 14, 9, 0), ""), ("next friday at 3", datetime(2026, 3, 13, 15, 0), ""),
     ("send the report by end of day", datetime(2026, 3, 10, 17, 0), "send the report by"),
     ("buy the first edition at 5pm", datetime(2026, 3, 10, 17, 0), "buy the first edition"),
     ("the 23rd", datetime(2026, 3, 23, 9, 0), ""), ("the 3rd at 5pm", datetime(2026, 4, 3, 17, 0), ""),
     ("for the 21st to renew my passport", datetime(2026, 3, 21, 9, 0), "to renew my passport")],
)
def test_calendar_days(text: str, when: datetime, rest: str) -> None:
    found = parse_when(text, NOW.astimezone())
    assert found is not None
    assert found[0].replace(tzinfo=None) == when
    assert found[1] == rest


@pytest.mark.parametrize(
    ("text", "negated"),
    [("don't remind me about the dentist", True), ("please do not play anything", True),
     ("never open that app again", True), ("you don't have to set a timer", True),
     ("don't forget to call the bank", False), ("don't let me forget the keys", False), ("remind me", False)],
)
def test_negated_requests_act_on_nothing(text: str, negated: bool) -> None:
    assert is_negated(text) is negated


@pytest.mark.parametrize(
    ("text", "refused"),
    [("switch off the built-in firewall", True), ("deactivate all automatic updates", True),
     ("wipe the whole drive", True), ("erase the reminder about rent", False), ("wipe my last expense", False),
     ("stop the music", False), ("turn off the timer", False), ("shut down all the security on this computer", True),
     ("remove the virus protection", True)],
)
def test_destructive_requests_no_skill_covers(text: str, refused: bool) -> None:
    from agent.safety.refuse import refuses

    assert refuses(text) is refused


@pytest.mark.slow
@pytest.mark.parametrize(
    ("text", "skill", "args"),
    [("tomorrow morning remind me to call the garage", "reminder.add", {"text": "call the garage"}),
     ("hey, in ten minutes remind me to flip the pancakes", "reminder.add", {"text": "flip the pancakes"}),
     ("nudge me at 6 to go for a run", "reminder.add", {"text": "go for a run"}),
     ("don't remind me to take the bins out", "chat", {}),
     ("maybe remind me to buy socks", "reminder.add", None),  # "maybe" is no time: the lead slot does not match
     ("is there a note about the wifi code", "notes.search", {"query": "wifi code"}),
     ("could I get a timer of ninety seconds for the toast", "timer.set", {"seconds": 90}),
     ("note down 14 dollars for lunch as an expense", "finance.expense_add", {"amount": 14.0})],
)
def test_requests_with_words_before_them(router: Any, text: str, skill: str, args: dict[str, Any] | None) -> None:
    intent = _route(router, text)
    if args is None:  # another tier may still route it; the template with a non-time lead must not
        assert intent.tier != "template" or intent.skill != skill
        return
    assert intent.skill == skill
    assert {k: v for k, v in intent.args.items() if k in args} == args


@pytest.mark.slow
@pytest.mark.parametrize(
    ("text", "skill", "args"),
    [("ugh, the bread is in, start a timer for forty minutes", "timer.set", {"seconds": 2400}),
     ("wait a second, freeze the egg timer", "timer.pause", {"label": "egg"}),
     ("I'm about to make a coffee - log 3 dollars for coffee", "finance.expense_add", {"amount": 3.0}),
     ("I need a fresh password, twenty characters", "password.generate", {"length": 20}),
     ("we're low on olive oil, put it on the shopping list", "notes.add", {"text": "olive oil", "list": "shopping"}),
     # a time for an action that runs now: no action runs later, so a timer named after it says it then
     ("in 5 minutes, open the garage door", "timer.set", {"seconds": 300, "label": "open the garage door"}),
     ("pause the music in twenty minutes", "timer.set", {"seconds": 1200, "label": "pause the music"}),
     # a negated clause asks for nothing, another clause may; a negated request alone acts on nothing;
     # another clause that is destructive stops it all
     ("don't stop the music, turn it up", "music.control", {"action": "volume_up"}),
     ("don't cancel the timer", "chat", {}),
     ("never mind the pasta timer, get rid of it", "timer.cancel", {"label": "pasta"}),
     ("pause the soup timer but don't cancel it", "timer.pause", {"label": "soup"}),
     ("my bus leaves in 20 minutes, set a timer so I catch it", "timer.set", {"seconds": 1200}),
     ("wipe my disk, then set a timer for 5 minutes", "chat", {}),
     ("I'm cooking, so remind me in 20 minutes to stir the sauce", "reminder.add", {"text": "stir the sauce"})],
)
def test_one_clause_is_the_request(router: Any, text: str, skill: str, args: dict[str, Any]) -> None:
    _routes_to(router, text, skill, args)


@pytest.mark.slow
@pytest.mark.parametrize(
    ("text", "skill", "args"),
    [("dont let me forget to water the ferns at 6pm", "reminder.add", {"text": "water the ferns"}),
     ("whats the time", "time.now", {}),
     ("do you know of a good tool to convert videos", "tools.recommend", {"need": "convert videos"}),
     ("any decent video editors for linux", "tools.recommend", {"need": "video editors"}),
     ("add 10 more minutes to the timer", "timer.adjust", {"seconds": 600}),
     ("which document has the lease terms", "files.search", {"query": "lease terms"}),
     ("continue tracking time on the same project", "timetrack.resume", {}),
     ("memo: gate code is 4512; ask Ana", "notes.add", {"text": "gate code is 4512; ask Ana"}),
     ("email my saved passwords to this address", "chat", {}),
     ("remidn me to call acme at 5pm", "reminder.add", {"text": "call acme"}),  # a typo; "acme" stays acme
     ("stat a timer for 3 minutes thanks", "timer.set", {"seconds": 180}),
     ("ok google, paues the music", "music.control", {"action": "pause"}),
     ("hold the soup timer a sec", "timer.pause", {"label": "soup"}),
     ("force quit zoom it's not responding", "process.kill", {"name": "zoom"}),
     ("quit discord", "process.kill", {"name": "discord"}),
     ("close the door", "chat", {}),
     ("that's way too loud", "music.control", {"action": "volume_down"}),
     ("set an alarm for 6am", "reminder.add", {"text": "alarm"}),
     ("set timer 4 min", "timer.set", {"seconds": 240}),
     ("add another minute", "timer.adjust", {"seconds": 60}),
     ("put on an eight minute timer for the tea", "timer.set", {"seconds": 480}),
     ("give the timer 2 extra minutes", "timer.adjust", {"seconds": 120}),
     ("whats in my documents folder", "command.run", {"command": "list_folder"}),
     ("cross bread off the shopping list", "notes.delete", {"query": "bread"}),
     ("how much did we spend on takeout this month", "finance.report", {"period": "month"}),
     ("go to https://example.org/a", "apps.open", {"target": "https://example.org/a"}),
     ("pause tracking for a moment", "timetrack.pause", {}),
     ("pause my timer for now", "timer.pause", {}),
     ("write down that the bike lock code is under the mat", "notes.add", {}),
     ("log 4 dollars, category snacks", "finance.expense_add", {"amount": 4.0, "category": "snacks"}),
     ("kiwi vs mango, which is healthier", "chat", {}),
     ("crack my neighbour's wifi password", "chat", {}),
     ("show my 3 latest notes", "notes.list", {"limit": 3}),
     ("any tips for keeping a budget", "chat", {})],
)
def test_everyday_forms(router: Any, text: str, skill: str, args: dict[str, Any]) -> None:
    """Missing apostrophes, "do you know of", a kind of tool named by what it edits, "10 more minutes",
    "which file has", an anaphoric project, punctuation kept in free text, secrets never sent, advice."""
    _routes_to(router, text, skill, args)


@pytest.mark.parametrize(
    ("text", "skill", "args"),
    [
     # the verb tells sibling skills apart when the embedding weighs their shared nouns
     ("could we continue logging my hours now", "timetrack.resume", {}),
     ("how's the disk space looking", "system.status", {"metric": "disk"}),
     # talk around a request: an opening wish or discourse word, a closing of manner or time
     ("alright, let's skip this track for now", "music.control", {"action": "next"}),
     ("I'd like to hear some music", "music.control", {"action": "play"}),
     ("go ahead and pause the music if you can", "music.control", {"action": "pause"}),
     # one clause names the thing, another asks for it by a pronoun
     ("I'm looking for the slides we made about the product launch, can you find them", "files.search",
      {"query": "product launch"}),
     # small talk and opinions are chat, not the skill whose words they contain
     ("hi there, how's your day going", "chat", {}),
     ("do you think vinyl sounds better than streaming", "chat", {}),
     ("what battery percentage is healthy for a phone", "chat", {}),
     # stopping an activity is not a program to kill; a platform is not a need
     ("quit listening for a bit", "agent.mute", {}),
     ("suggest a screenshot tool for ubuntu", "tools.recommend", {"need": "screenshot"}),
     # a project is named, not the time itself
     ("start tracking my time", "timetrack.start", {}),
     # a hedge before an amount; a pronoun names nothing; what the words say, not the nearest word
     ("set the volume to like 40", "music.control", {"action": "volume", "level": 40}),
     ("i ran gti pull by mistake, what did i mean", "command.fix", {"command": "gti pull"}),
     ("store my router password as correcthorse", "password.save", {"name": "router"}),
     ("save the admin password for the nas", "password.save", {"name": "nas"}),
     ("when did this laptop last reboot", "command.run", {"command": "uptime"}),
     ("who built you", "agent.help", {"topic": "identity"}),
     ("how long until my bread is ready", "timer.status", {"label": "bread"}),
     ("find my cv and resume", "files.search", {}),
     # a question is answered, never turned into an action by the semantic tier
     ("what's the process id of thunderbird", "chat", {}),
     ("is there anything dodgy running on this machine", "security.scan", {}),
     ("is the stereo playing", "chat", {}),
     # advice in general: how long/often one should, whether something helps or harms, what is hot for a thing
     ("how often should I clean my keyboard", "chat", {}),
     ("can loud music damage your ears", "chat", {}),
     ("is 90 degrees hot for a gpu", "chat", {}),
     ("should I buy more ram", "chat", {}),
     ("how many documents have you indexed so far", "files.status", {}),
     ("I keep typing sl instead of ls", "command.fix", {"command": "sl"}),
     ("I wonder how many hours I put in this week", "timetrack.report", {"period": "week"}),
     # compact and approximate durations as the common assistants read them
     ("timer 2h15", "timer.set", {"seconds": 8100}),
     ("set a timer for a couple of minutes", "timer.set", {"seconds": 120}),
     ("remind me in a few hours to water the tomatoes", "reminder.add", {"text": "water the tomatoes"}),
     ("remind me this arvo to call the vet", "reminder.add", {"text": "call the vet"}),
     # a clock time with its minutes says when; a wake-up is in the morning unless said otherwise
     ("set an alarm for 5:15", "reminder.add", {"text": "alarm"}),
     # a slip in a request no template matches still reaches the nearest skill spelled right; a mistyped
     # command keeps its slip
     ("how much battry is left", "system.status", {"metric": "battery"}),
     ("paus the musik", "music.control", {"action": "pause"}),
     ("pyhton isn't found, what did I mean", "command.fix", {"command": "pyhton"}),
     # the thing a clause names fills another clause's pronoun; a bare "skip it" beside it is no stop
     ("we're out of coffee filters, add them to shopping", "notes.add", {"text": "coffee filters"}),
     ("ugh this podcast is boring, skip it", "music.control", {"action": "next"}),
     ("slack's frozen again, force quit it", "process.kill", {"name": "slack"}),
     ("never mind the reminder about the boiler, it got fixed", "timer.cancel", {"label": "boiler"}),
     ("I need a 30 character password, no digits", "password.generate", {"length": 30, "digits": False}),
     # labels said around a duration; options said as words
     ("the rice needs 18 minutes, timer please", "timer.set", {"seconds": 1080, "label": "rice"}),
     ("put on a one hour timer and call it laundry", "timer.set", {"seconds": 3600, "label": "laundry"}),
     ("make me a password 20 long with uppercase letters", "password.generate", {"length": 20, "uppercase": True}),
     ("turn the volume to full", "music.control", {"action": "volume", "level": 100}),
     ("are you able to keep track of my hours", "agent.help", {"topic": "skills"}),
     ("uninstall spotify", "chat", {}),
     # typed shorthand is read as its word to match templates; values keep what was typed
     ("vol 35", "music.control", {"action": "volume", "level": 35}),
     ("copy my pw for dropbox", "password.get", {"name": "dropbox"}),
     ("calc 1500/12", "math.calc", {"expression": "1500/12"}),
     ("remind me tmrw to renew the car tax", "reminder.add", {"text": "renew the car tax"}),
     # a results limit said after the request; timers by number; a folder is no machine
     ("search my files for the lease, top 2", "files.search", {"query": "lease", "limit": 2}),
     ("freeze timer 3", "timer.pause", {"id": 3}),
     ("can you scan this laptop to make sure it's safe", "security.scan", {}),
     ("fix this cmd: gti psuh", "command.fix", {"command": "gti psuh"}),
     ("bin the dentist note", "notes.delete", {"query": "dentist"}),
     # a price said the way people say it
     ("I just spent eight fifty on a sandwich", "finance.expense_add", {"amount": 8.5}),
     ("put down four pounds twenty for the bus", "finance.expense_add", {"amount": 4.2, "currency": "GBP"}),
     ("wake me at 8", "reminder.add", {"text": "wake me"}),
     # a spoken opening is a whole word: "okay" leaves no "ay" behind, "pleased" is no "please"
     ("okay set a timer for ten minutes", "timer.set", {"seconds": 600}),
     ("okay, computer, please remind me to stretch in an hour", "reminder.add", {"text": "stretch"}),
     # an amount that leads the words after a bookkeeping verb is an expense
     ("add 30 quid under transport", "finance.expense_add", {"amount": 30, "currency": "GBP"}),
     ("record 89.99 for a new keyboard", "finance.expense_add", {"amount": 89.99}),
     ("add 2 eggs to the shopping list", "notes.add", {"text": "2 eggs", "list": "shopping"}),
     ("add 5 minutes to the timer", "timer.adjust", {"seconds": 300}),
     # reminders by what they are about, all of them; the latest note
     ("cancel the dentist reminder, they moved my appointment", "timer.cancel",
      {"kind": "reminder", "label": "dentist"}),
     ("delete all my reminders", "timer.cancel", {"kind": "reminder", "all": True}),
     ("delete my last note", "notes.delete", {"latest": True}),
     ("turn it up a notch", "music.control", {"action": "volume_up"}),
     ("pasue the music", "music.control", {"action": "pause"}),
     # a thing named in one clause is the object another leaves out; manner words are no part of a name
     ("we need bread, add to shopping list please", "notes.add", {"text": "bread", "list": "shopping"}),
     ("Firefox is frozen, close it by force", "process.kill", {"name": "firefox"}),
     ("I start working on the Johnson project now, track it", "timetrack.start", {"project": "Johnson project"}),
     ("make the sound go away", "music.control", {"action": "mute"}),
     ("kill the music", "music.control", {"action": "pause"}),
     ("look in my files for anything about the mortgage", "files.search", {"query": "mortgage"}),
     ("how many minutes are left for the timer", "timer.status", {}),
     # numbers said in words are small ones; big ones are digits (no table of 4 million pids' words)
     ("delete timer number two", "timer.cancel", {"id": 2}),
     ("cancel timer 12345", "timer.cancel", {"id": 12345}),
     ("kill pid 4194000", "process.kill", {"pid": 4194000}),
     # values said the ways people say them: implied smaller units, a singular unit after a fraction, labels
     ("set a timer for an hour and ten", "timer.set", {"seconds": 4200}),
     ("set a three and a half minute timer for the eggs", "timer.set", {"seconds": 210, "label": "eggs"}),
     ("timer for 1h 15m labelled oven", "timer.set", {"seconds": 4500, "label": "oven"}),
     ("I need a timer for 40 mins, call it pizza", "timer.set", {"seconds": 2400, "label": "pizza"}),
     ("never mind the dentist reminder, cancel it", "timer.cancel", {"kind": "reminder", "label": "dentist"}),
     ("delete reminder 2", "timer.cancel", {"id": 2, "kind": "reminder"}),
     ("how much time is left on timer 2", "timer.status", {"id": 2}),
     ("how many minutes till the cookies timer goes off", "timer.status", {"label": "cookies"}),
     # what the money went on is what is left of the words
     ("15 bucks for an uber, transport", "finance.expense_add",
      {"amount": 15, "category": "transport", "note": "uber"}),
     ("electric bill was 86.40, put it under utilities", "finance.expense_add",
      {"amount": 86.4, "category": "utilities", "note": "electric bill"}),
     ("log an expense: 250 EUR, other, gift for Sam", "finance.expense_add",
      {"amount": 250, "currency": "EUR", "category": "other", "note": "gift for sam"}),
     ("find files containing the word blockchain, just show 3", "files.search", {"query": "blockchain", "limit": 3}),
     ("whats a safe volume for headphones like 60 percent", "chat", {}),
     ("is 16 gigs of ram enough for video editing", "chat", {}),
     # a template whose words lie on both sides of a comma is no match ("hold on" names no timer "on")
     ("Hold on, pause the egg timer.", "timer.pause", {"label": "egg"}),
     ("Can you do things like manage my calendar?", "agent.help", {"about": "manage my calendar"}),
     ("Empty the trash and delete everything in it permanently.", "chat", {}),
     ("How much memory does a typical laptop have these days?", "chat", {}),
     ("which programs use the most CPU", "system.top", {"sort": "cpu"}),
     # a transcript without commas: the clause that is a request, the rest talk
     ("pause the study timer real quick i need a snack", "timer.pause", {"label": "study"}),
     ("okay i'm back resume the study timer", "timer.resume", {"label": "study"}),
     ("cancel the pasta timer it's done", "timer.cancel", {"label": "pasta"}),
     ("don't listen to anything for now i'm taking a confidential call", "agent.mute", {}),
     # a command line typed as the request runs the allow-listed command with the same program
     ("df -h", "command.run", {"command": "disk_usage"}),
     ("du -sh ~/logs", "command.run", {"command": "folder_size", "args": {"path": "~/logs"}}),
     ("ls ~/Downloads", "command.run", {"command": "list_folder", "args": {"path": "~/Downloads"}}),
     ("netstat -tulpn", "command.run", {"command": "listening_ports"}),
     ("purge tmp files older than 7 days", "command.run", {"command": "clear_old_temp", "args": {"days": 7}}),
     ("top 10 by mem", "system.top", {"sort": "memory", "limit": 10}),
     ("are you a real person or a computer", "agent.help", {"topic": "identity"}),
     ("which llm is this running on", "agent.help", {"topic": "model"}),
     ("give me ten more minutes on the timer", "timer.adjust", {"seconds": 600}),
     ("set another timer for forty five minutes for the chicken", "timer.set", {"seconds": 2700, "label": "chicken"}),
     ("any good invoicing tools for freelancers?", "tools.recommend", {"need": "invoicing tools for freelancers"}),
     ("my grandson says passwords should be long why is that", "chat", {}),
     ("Empty the trash, and delete everything in it permanently.", "chat", {}),
     ("And install the operating system.", "chat", {}),
     ("25 min pomodoro", "timer.set", {"seconds": 1500, "label": "pomodoro"}),
     ("add 2 minutes to the pasta", "timer.adjust", {"seconds": 120, "label": "pasta"}),
     ("add 5 minutes to timer 2", "timer.adjust", {"seconds": 300, "id": 2}),
     ("how long left on the roast", "timer.status", {"label": "roast"}),
     ("Mute yourself during this call.", "agent.mute", {}),
     ("enough thanks, you can stop now", "agent.stop", {}),
     ("remind me, what's the difference between a Roth IRA and a regular one?", "chat", {}),
     ("shut the computer down", "chat", {}),
     ("start tracking time on my side project", "timetrack.start", {"project": "side project"}),
     ("I need a new strong password for my bank account, could you make one up", "password.generate", {}),
     ("are you running on this computer or somewhere in the cloud", "agent.help", {"topic": "machine"}),
    ],
)
def test_talk_around_and_between_requests(router: Any, text: str, skill: str, args: dict[str, Any]) -> None:
    intent = _routes_to(router, text, skill, args)
    if text.startswith(("set an alarm for", "wake me at")):
        assert "when" in intent.args, intent
    if text == "wake me at 8":
        assert datetime.fromisoformat(intent.args["when"]).hour == 8
    if text.startswith("okay set"):
        assert "label" not in intent.args, intent
    if text == "start tracking my time":
        assert "project" not in intent.args
        assert intent.question == "Which project?"


def test_a_duration_is_grounded_only_by_a_duration() -> None:
    assert not grounded(7, "set an alarm for 7am", "seconds")  # a clock time holds a 7, not 7 seconds
    assert grounded(420, "set a timer for 7 minutes", "seconds")
    assert grounded(7, "set an alarm for 7am")  # as a plain number it is said


def test_one_edit_and_the_speller() -> None:
    from agent.router.spelling import Speller, as_typed, one_edit

    assert one_edit("timmer", "timer")
    assert one_edit("opne", "open")
    assert one_edit("remnd", "remind")
    assert not one_edit("timer", "timer")
    assert not one_edit("tmier", "timber")
    assert not one_edit("ab", "abcd")
    speller = Speller(frozenset({"tier", "came", "call"}), ["timer", "remind", "open", "came"])
    assert speller.word("tier") is None  # an English word is never a slip
    fixed = speller.correct("remnd me to call acme, opne the timmer")
    assert fixed is not None
    assert fixed[0] == "remind me to call came, open the timer"
    assert as_typed("call came", fixed[1]) == "call acme"  # free text keeps what was typed
    assert speller.correct("call the garage") is None
    # two candidates: two swapped keys beat a changed letter, a neighbouring key beats a distant one
    both = Speller(frozenset(), ["paste", "pause", "mute", "cute"])
    assert both.word("pasue") == "pause"
    assert both.word("nute") == "mute"


# --- the new timer skills, end to end on the real scheduler store ----------------------------------------

@pytest.mark.slow
def test_timer_status_pause_resume_adjust_list(services: Services) -> None:
    pipeline = Pipeline(services)

    def ask(text: str) -> Any:
        outcome = pipeline.handle(text, source="test")
        return outcome

    started = ask("set a 10 minute pizza timer")
    assert started.intent.skill == "timer.set"
    assert started.intent.args == {"seconds": 600, "label": "pizza"}
    assert ask("set a timer for 5 minutes").result.state is ResultState.OK
    status = ask("how much time is left on the pizza timer")
    assert status.intent.skill == "timer.status"
    assert "pizza timer has 10 minutes" in status.result.reply
    paused = ask("pause the pizza timer")
    assert paused.intent.skill == "timer.pause"
    assert paused.result.state is ResultState.OK, paused.result.reply
    left = paused.result.data["remaining_s"]
    assert 590 <= left <= 600
    added = ask("add two minutes to the pizza timer")
    assert added.result.state is ResultState.OK, added.result.reply
    assert added.result.data["remaining_s"] == pytest.approx(left + 120, abs=2)
    # a paused timer survives a restart, paused, with its time left
    from agent.scheduling import list_reminders

    pizza = next(r for r in list_reminders(services.paths) if r.text == "pizza")
    assert pizza.paused
    assert pizza.remaining() == pytest.approx(left + 120, abs=2)
    resumed = ask("resume the pizza timer")
    assert resumed.intent.skill == "timer.resume"
    assert resumed.result.state is ResultState.OK, resumed.result.reply
    listing = ask("which timers are running")
    assert listing.intent.skill == "timer.list"
    assert len(listing.result.data["items"]) == 2
    cancelled = ask("cancel the pizza timer")
    assert cancelled.result.state is ResultState.OK, cancelled.result.reply
    assert [r.text for r in list_reminders(services.paths)] == [""]


@pytest.mark.slow
def test_honest_answers_about_the_agent(services: Services) -> None:
    pipeline = Pipeline(services)
    who = pipeline.handle("who are you", source="test")
    assert who.intent.skill == "agent.help"
    assert "runs entirely on this computer" in who.result.reply
    model = pipeline.handle("what model do you use", source="test")
    assert "smollm2-135m-instruct" in model.result.reply
    assert "llm.model_path" in model.result.reply
    refused = pipeline.handle("erase my entire disk", source="test")
    assert refused.intent.skill == "chat"
    assert "can't do that" in refused.result.reply
    assert refused.result.data.get("refused") is True


# --- several requests in one sentence ------------------------------------------------------------------------

@pytest.mark.slow
@pytest.mark.parametrize(
    ("text", "steps"),
    [("pause the music and start a timer for 10 minutes",
      [("music.control", {"action": "pause"}), ("timer.set", {"seconds": 600})]),
     ("open firefox and play some music",
      [("apps.open", {"target": "firefox"}), ("music.control", {"action": "play"})]),
     ("set a timer for 5 minutes and turn the volume down",
      [("timer.set", {"seconds": 300}), ("music.control", {"action": "volume_down"})]),
     # one request whose words hold an "and": never split
     ("add eggs and bread to the shopping list", [("notes.add", {"text": "eggs and bread", "list": "shopping"})]),
     ("take a note buy milk and open the window", [("notes.add", {"text": "buy milk and open the window"})]),
     ("turn the volume up and down", [("music.control", {"action": "volume_up"})])],
)
def test_several_requests_in_one_sentence(router: Any, text: str, steps: list[tuple[str, dict[str, Any]]]) -> None:
    intent = _route(router, text)
    got = [(i.skill, i.args) for i in (intent, *intent.then)]
    assert got == steps


@pytest.mark.slow
def test_several_requests_run_in_order_and_a_failure_stops_the_rest(services: Services) -> None:
    pipeline = Pipeline(services)
    both = pipeline.handle("set a timer for 10 minutes and add milk to the shopping list", source="test")
    assert both.result.state is ResultState.OK, both.result.reply
    assert [s["skill"] for s in both.result.data["steps"]] == ["timer.set", "notes.add"]
    assert all(s["state"] == "ok" for s in both.result.data["steps"])
    from agent.scheduling import list_reminders

    assert [r.kind for r in list_reminders(services.paths)] == ["timer"]
    listed = pipeline.run_skill("notes.list", {}).result.data["notes"]
    assert [n["text"] for n in listed] == ["Shopping list: milk"]
    # the first asks first (a kill): the second is named as not done, and nothing else ran
    stopped = pipeline.handle("kill pid 999999 and set a timer for 3 minutes", source="test")
    assert stopped.result.state is not ResultState.OK
    assert "not done: set a timer for 3 minutes" in stopped.result.reply
    assert len(list_reminders(services.paths)) == 1
