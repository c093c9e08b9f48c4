"""Rule files: the pinned shape, validation with file:line:col and suggestions, permissions, `agent rules check`."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from agent.automation import load_rules
from agent.automation.catalog import RuleCatalog
from agent.automation.engine import default_rule_paths
from agent.automation.schema import parse_duration
from agent.automation.sentences import compile_template
from agent.services import Services
from tests.automation_support import write_rules
from tests.conftest import run_cli

PINNED = """
- id: cpu_hot
  alias: CPU busy for a while
  mode: single
  triggers:
    - metric: cpu.percent
      above: 90
      clear_below: 75
      for: {checks: 5}
    - schedule: {cron: "0 9 * * 1-5"}
  conditions:
    - time: {after: "08:00", before: "23:00"}
  actions:
    - notify: {title: "CPU at {value}%", body: "busy for {duration}"}
    - speak: "Your CPU has been busy for a while."
    - skill: {name: system.top, args: {sort: cpu, limit: 3}}
    - command: {id: clear_tmp}
"""


def _catalog(services: Services) -> RuleCatalog:
    return RuleCatalog(services.registry, services.executor)


def test_the_pinned_example_validates_except_for_its_made_up_command(services: Services, tmp_path: Path):
    path = write_rules(tmp_path, PINNED)
    result = load_rules([path], _catalog(services))
    assert [str(p) for p in result.errors] == [
        f"{path}:17:21: cpu_hot.actions[3].command.id: 'clear_tmp' is not an allow-listed command "
        "(did you mean 'clear_old_temp'?); add it under 'commands:' in the config file"]
    fixed = write_rules(tmp_path, PINNED.replace("{id: clear_tmp}", "{id: clear_old_temp, args: {days: 30}}"))
    result = load_rules([fixed], _catalog(services))
    assert result.errors == []
    rule = result.rules[0].rule
    assert rule.triggers[0].for_.checks == 5  # type: ignore[union-attr]
    assert rule.mode == "single"
    assert len(rule.actions) == 4


def test_every_error_is_reported_with_its_place_and_a_suggestion(services: Services, tmp_path: Path):
    path = write_rules(tmp_path, """
        - id: typos
          triggers:
            - metric: cpu.precent
              abve: 90
            - schedul: {cron: "0 9 * * *"}
          conditions:
            - tme: {after: "08:00"}
          actions:
            - notify: {titel: "x"}
            - skill: {name: system.stauts}
            - skill: {name: system.status, args: {metrc: cpu}}
        - id: good
          triggers: [{event: agent.started}]
          actions: [{log: "started"}]
    """)
    result = load_rules([path], _catalog(services))
    lines = [str(p) for p in result.errors]
    expected = [
        ":5:7: typos.triggers[0].abve: unknown key 'abve' (did you mean 'above'?)",
        ":6:7: typos.triggers[1]: unknown trigger kind (did you mean 'schedule'?)",
        ":8:7: typos.conditions[0]: unknown condition kind (did you mean 'time'?)",
        ":10:15: typos.actions[0].notify.title: missing key 'title'",
        ":10:16: typos.actions[0].notify.titel: unknown key 'titel' (did you mean 'title'?)",
    ]
    for want in expected:
        assert any(line.startswith(str(path) + want) for line in lines), (want, lines)
    assert [r.rule.id for r in result.rules] == ["good"]  # the bad rule is left out, the good one loads
    assert set(result.invalid) == {"typos"}
    # once the shape is right, names are checked against the metrics, the registry and the allow-list
    path = write_rules(tmp_path, """
        - id: names
          triggers: [{metric: cpu.precent, above: 90}]
          actions:
            - skill: {name: system.stauts}
            - skill: {name: system.status, args: {metrc: cpu}}
    """)
    lines = [str(p) for p in load_rules([path], _catalog(services)).errors]
    assert lines == [
        f"{path}:3:23: names.triggers[0].metric: unknown metric 'cpu.precent' (did you mean 'cpu.percent'?)",
        f"{path}:5:21: names.actions[0].skill.name: unknown skill 'system.stauts' (did you mean 'system.status'?)",
        f"{path}:6:43: names.actions[1].skill.args.metrc: unknown argument 'metrc' for system.status "
        "(did you mean 'metric'?)",
    ]


@pytest.mark.parametrize(("snippet", "message"), [
    ("triggers: [{metric: cpu.percent, above: 90, below: 10}]", "exactly one of 'above' or 'below'"),
    ("triggers: [{metric: cpu.percent, above: 90, clear_below: 95}]", "'clear_below' must not be higher"),
    ("triggers: [{metric: cpu.percent, above: 9, within: {checks: 5, of: 3}}]", "'checks' cannot be more than 'of'"),
    ("triggers: [{schedule: {cron: '0 25 * * *'}}]", "bad cron expression"),
    ("triggers: [{schedule: {every: 10m, at: '08:00'}}]", "exactly one of 'cron', 'every' or 'at'"),
    ("triggers: [{hotkey: 'ctrl+alt+h'}]", "not a key combination"),
    ("triggers: [{voice: 'turn (on|off the light'}]", "missing ')'"),
    ("triggers: [{event: agent.startd}]", "did you mean 'agent.started'"),
    ("triggers: [{event: agent.started}]\n  conditions: [{trigger: metric}]", "no trigger with id or kind 'metric'"),
    ("triggers: [{event: agent.started}]\n  mode: sometimes", "Input should be 'single', 'restart'"),
])
def test_semantic_errors(services: Services, tmp_path: Path, snippet: str, message: str):
    text = f"- id: r\n  {snippet}\n  actions: [{{log: x}}]\n"
    result = load_rules([write_rules(tmp_path, text)], _catalog(services))
    assert result.errors
    assert message in str(result.errors[0]), [str(p) for p in result.errors]


def test_yaml_syntax_errors_duplicates_and_shape(services: Services, tmp_path: Path):
    broken = write_rules(tmp_path, "- id: a\n  triggers: [{event: agent.started}\n  actions: []\n", "broken.yaml")
    dup = write_rules(tmp_path, "- id: a\n  id: b\n  triggers: [{event: agent.started}]\n  actions: [{log: x}]\n"
                                "- id: c\n  triggers: [{event: agent.started}]\n  actions: [{log: x}]\n"
                                "- id: c\n  triggers: [{event: agent.started}]\n  actions: [{log: x}]\n", "dup.yaml")
    notalist = write_rules(tmp_path, "id: x\n", "map.yaml")
    result = load_rules([broken, dup, notalist], _catalog(services))
    lines = [str(p) for p in result.errors]
    assert any(line.startswith(f"{broken}:3:") and "not valid YAML" in line for line in lines)
    assert f"{dup}:2:3: b.id: duplicate key 'id'" in lines
    assert any(line.startswith(f"{dup}:8:") and "duplicate rule id" in line for line in lines)
    assert f"{notalist}:1:1: -: a rule file is a YAML list of rules ('- id: ...')" in lines


def test_rules_that_run_commands_refuse_files_writable_by_others(services: Services, tmp_path: Path):
    text = "- id: clean\n  triggers: [{schedule: {every: 1d}}]\n  actions: [{command: {id: uptime}}]\n" \
           "- id: talk\n  triggers: [{schedule: {every: 1d}}]\n  actions: [{speak: hello}]\n"
    path = write_rules(tmp_path, text)
    assert load_rules([path], _catalog(services)).errors == []
    path.chmod(0o664)
    result = load_rules([path], _catalog(services))
    assert [r.rule.id for r in result.rules] == ["talk"]  # a rule that runs nothing is harmless
    assert "refusing a rule that runs commands from a file writable by group or others (mode 0664" in str(
        result.errors[0])


def test_default_rules_pass_the_check(services: Services):
    paths = default_rule_paths(services)
    assert paths[0].name == "rules"
    assert (paths[0] / "health.yaml").exists()
    result = load_rules(paths, _catalog(services), missing_ok=True)
    assert result.problems == []
    ids = {r.rule.id for r in result.rules}
    assert {"health.cpu_busy", "health.memory_low", "health.disk_filling", "health.battery_low",
            "health.temperature", "health.runaway_process", "health.agent_resources",
            "security.daily_scan", "security.serious_findings"} <= ids
    for loaded in result.rules:  # quiet by default: no default rule speaks
        assert "speak" not in loaded.rule.model_dump_json()


def test_cli_rules_check(tmp_path: Path):
    ok = run_cli("rules", "check")
    assert ok.returncode == 0, ok.stdout + ok.stderr
    assert ok.stdout.startswith("ok: ")
    bad = tmp_path / "bad.yaml"
    bad.write_text(textwrap.dedent("""\
        - id: x
          triggers: [{metric: cpu.percent, abov: 90}]
          actions: [{log: x}]
    """))
    result = run_cli("rules", "check", str(bad))
    assert result.returncode == 1
    assert result.stdout.splitlines() == [
        f"{bad}:2:36: x.triggers[0].abov: unknown key 'abov' (did you mean 'above'?)"]


def test_durations_and_sentence_templates():
    assert parse_duration("1h30m") == 5400
    assert parse_duration(90) == 90
    assert parse_duration("2d") == 172800
    with pytest.raises(ValueError, match="not a duration"):
        parse_duration("soon")
    t = compile_template("[please] turn (on|off) the [kitchen] light in {room}")
    assert t.match("Turn off the light in the hall.") == {"room": "the hall"}
    assert t.match("please turn on the kitchen light in attic") == {"room": "attic"}
    assert t.match("turn the light in attic") is None
