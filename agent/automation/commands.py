"""Allow-listed commands the automation engine and the security scan run through the executor.

All read-only except `notify_send` (shows a desktop notification). `agent.services` registers them with the
agent's own actions; skills bring theirs through `Skill.actions`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from agent.config import ArgSpec, CommandSpec

if TYPE_CHECKING:
    from agent.safety.executor import Executor

__all__ = ["AUTOMATION_COMMANDS", "register_actions"]

AUTOMATION_COMMANDS: tuple[CommandSpec, ...] = (
    CommandSpec(
        id="notify_send",
        argv=["notify-send", "--app-name=ambient-agent", "--urgency={urgency}", "--", "{title}", "{body}"],
        args={"urgency": ArgSpec(type="choice", choices=["low", "normal", "critical"], default="normal"),
              "title": ArgSpec(max_length=200), "body": ArgSpec(max_length=300, default=" ")},
        description="show a desktop notification", timeout_s=5),
    CommandSpec(id="firewall_ufw_status", argv=["ufw", "status", "verbose"], description="show the ufw firewall state",
                timeout_s=10),
    CommandSpec(id="firewall_nft_ruleset", argv=["nft", "list", "ruleset"], description="show the nftables rules",
                timeout_s=10),
    CommandSpec(id="firewall_iptables_rules", argv=["iptables", "-S"], description="show the iptables rules",
                timeout_s=10),
    CommandSpec(id="service_active", argv=["systemctl", "is-active", "{unit}"],
                args={"unit": ArgSpec(type="choice", choices=["ufw", "firewalld", "nftables", "netfilter-persistent",
                                                              "ssh", "sshd"])},
                description="say whether a firewall or SSH service is running", timeout_s=10),
    CommandSpec(id="apt_upgradable", argv=["apt", "list", "--upgradable"],
                description="list packages with pending updates (from the local package index)", timeout_s=60),
    CommandSpec(id="crontab_list", argv=["crontab", "-l"], description="list your crontab", timeout_s=10),
)


def register_actions(executor: Executor) -> None:
    for spec in AUTOMATION_COMMANDS:
        if executor.command(spec.id) is None:  # a user's own definition in the config wins
            executor.add_command(spec)
