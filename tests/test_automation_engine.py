"""The engine on a manual clock with injected samples: no sleeping, no real time."""

from __future__ import annotations

from pathlib import Path

from agent.automation import ManualClock, Sample
from agent.automation.metrics import ProcInfo
from agent.events import Notice
from agent.services import Services
from tests.automation_support import FakeState, make_engine, tick, write_rules

HYSTERESIS = """
- id: cpu_hot
  triggers:
    - metric: cpu.percent
      above: 90
      clear_below: 75
  actions:
    - notify: {title: "CPU at {value}%", body: "for {duration}"}
  on_clear:
    - notify: {title: "CPU fine at {value}%"}
"""


def test_hysteresis_fires_on_the_edge_and_clears_below_the_clear_threshold(services: Services, tmp_path: Path):
    engine, clock, rec = make_engine(services, tmp_path, HYSTERESIS)
    for value in (50, 95, 97, 99, 85, 80, 76):  # one edge up; 85..76 is between the thresholds: still firing
        tick(engine, clock, {"cpu.percent": value})
    assert rec.titles == ["CPU at 95%"]
    tick(engine, clock, {"cpu.percent": 74})
    assert rec.titles == ["CPU at 95%", "CPU fine at 74%"]
    tick(engine, clock, {"cpu.percent": 89})
    tick(engine, clock, {"cpu.percent": 91})
    assert rec.titles[-1] == "CPU at 91%"
    assert len(rec.alerts) == 3


def test_missing_metric_never_fires_or_clears(services: Services, tmp_path: Path):
    engine, clock, rec = make_engine(services, tmp_path, HYSTERESIS)
    tick(engine, clock, {"cpu.percent": 95})
    for _ in range(3):
        tick(engine, clock, {})  # no reading (e.g. a sensor this machine lacks)
    assert rec.titles == ["CPU at 95%"]
    assert engine.rules["cpu_hot"].firing_triggers()


def test_for_needs_consecutive_checks_and_reports_the_duration(services: Services, tmp_path: Path):
    engine, clock, rec = make_engine(services, tmp_path, """
        - id: busy
          triggers:
            - metric: cpu.percent
              above: 90
              for: {checks: 3}
          actions:
            - notify: {title: "busy {value} for {duration}"}
    """)
    for value in (95, 95, 50, 95, 95):  # the dip resets the streak
        tick(engine, clock, {"cpu.percent": value})
    assert rec.alerts == []
    tick(engine, clock, {"cpu.percent": 96})
    assert rec.titles == ["busy 96 for 20 seconds"]
    for _ in range(5):
        tick(engine, clock, {"cpu.percent": 99})
    assert len(rec.alerts) == 1  # fires once per episode, not on every sample


def test_within_counts_bad_checks_in_a_window(services: Services, tmp_path: Path):
    engine, clock, rec = make_engine(services, tmp_path, """
        - id: flappy
          triggers:
            - metric: memory.available_percent
              below: 10
              clear_above: 30
              within: {checks: 3, of: 5}
          actions:
            - notify: {title: "low memory {value}%"}
    """)
    for value in (5, 50, 5, 50, 50, 50, 50):  # never 3 bad in any 5
        tick(engine, clock, {"memory.available_percent": value})
    assert rec.alerts == []
    for value in (5, 50, 5, 6):  # the 6 makes 3 bad of the last 5
        tick(engine, clock, {"memory.available_percent": value})
    assert rec.titles == ["low memory 6%"]


def test_repeat_while_firing_recovery_once_and_quiet_hours(services: Services, tmp_path: Path):
    engine, clock, rec = make_engine(services, tmp_path, """
        - id: disk
          triggers:
            - metric: disk./.percent
              above: 90
              clear_below: 85
          actions:
            - notify: {title: "disk {value}%"}
            - speak: "The disk is nearly full."
          on_clear:
            - notify: {title: "disk ok", urgency: low}
          repeat: 10m
    """)
    tick(engine, clock, {"disk./.percent": 95})
    for _ in range(60):  # 10 minutes of 10 s ticks
        tick(engine, clock, {"disk./.percent": 95})
    assert rec.titles == ["disk 95%", "disk 95%"]
    assert [s.text for s in rec.spoken] == ["The disk is nearly full."] * 2
    tick(engine, clock, {"disk./.percent": 80})
    tick(engine, clock, {"disk./.percent": 80})
    assert rec.titles == ["disk 95%", "disk 95%", "disk ok"]
    stored = engine.store.alerts(limit=10)
    assert [a["title"] for a in stored] == ["disk ok", "disk 95%", "disk 95%"]


def test_quiet_hours_store_the_alert_but_show_and_say_nothing(services: Services, tmp_path: Path):
    clock = ManualClock(wall=1_750_000_000.0)
    hour = engine_hour(clock)
    engine, clock, rec = make_engine(services, tmp_path, f"""
        - id: quiet
          triggers: [{{metric: cpu.percent, above: 90}}]
          actions:
            - notify: {{title: "hot"}}
            - speak: "hot"
            - notify: {{title: "critical hot", urgency: critical}}
          quiet_hours: {{after: "{hour:02d}:00", before: "{(hour + 1) % 24:02d}:00"}}
    """, clock=clock)
    tick(engine, clock, {"cpu.percent": 95})
    assert rec.titles == ["critical hot"]  # critical ones still show
    assert rec.spoken == []
    assert {a["title"]: a["shown"] for a in engine.store.alerts()} == {"hot": False, "critical hot": True}
    trace = engine.store.traces("quiet")[0]
    assert [s["outcome"] for s in trace["steps"]] == ["ok", "ok", "ok"]
    assert trace["steps"][1]["detail"].startswith("quiet")


def engine_hour(clock: ManualClock) -> int:
    from datetime import datetime

    return datetime.fromtimestamp(clock.time() + 10).astimezone().hour


MODES = """
- id: waiting
  mode: {mode}
  max: 2
  triggers: [{{event: custom.go}}]
  actions:
    - log: "start {{n}}"
    - delay: 30s
    - notify: {{title: "done {{n}}"}}
"""


def _modes(services: Services, tmp_path: Path, mode: str) -> list[str]:
    engine, clock, rec = make_engine(services, tmp_path, MODES.format(mode=mode))
    for n in (1, 2, 3, 4):
        engine.fire_event("custom.go", {"n": n})
        clock.advance(5)
        engine.advance()
    for _ in range(20):
        clock.advance(5)
        engine.advance()
    assert not engine.busy()
    return rec.titles


def test_mode_single_ignores_triggers_while_running(services: Services, tmp_path: Path):
    assert _modes(services, tmp_path, "single") == ["done 1"]


def test_mode_restart_keeps_only_the_last_run(services: Services, tmp_path: Path):
    assert _modes(services, tmp_path, "restart") == ["done 4"]


def test_mode_queued_runs_one_after_another_up_to_max(services: Services, tmp_path: Path):
    assert _modes(services, tmp_path, "queued") == ["done 1", "done 2", "done 3"]  # 4 dropped: queue of 2 full


def test_mode_parallel_runs_at_most_max_at_once(services: Services, tmp_path: Path):
    assert _modes(services, tmp_path, "parallel") == ["done 1", "done 2"]


def test_trace_records_trigger_conditions_and_each_action(services: Services, tmp_path: Path):
    engine, clock, rec = make_engine(services, tmp_path, """
        - id: traced
          triggers: [{id: go, event: custom.go}]
          conditions:
            - or:
                - trigger: go
                - time: {after: "00:00"}
          actions:
            - if: [{metric: cpu.percent, above: 1000}]
              then: [{notify: {title: "impossible"}}]
              else: [{log: "not that hot"}]
            - choose:
                - conditions: [{not: [{state: {on_battery: true}}]}]
                  actions: [{notify: {title: "on mains"}}, {stop: "enough"}]
            - notify: {title: "never reached"}
    """)
    assert engine.fire_event("custom.go", {"who": "test"}) == ["traced"]
    assert rec.titles == ["on mains"]
    trace = engine.store.traces("traced")[0]
    assert trace["result"] == "stopped"
    assert trace["trigger"]["values"]["who"] == "test"
    results = {c["path"]: c["result"] for c in trace["conditions"]}
    assert results["conditions[0].or[0]"] is True
    assert results["actions[0].if[0]"] is False
    assert [s["outcome"] for s in trace["steps"]][-1] == "stopped"


def test_conditions_time_spanning_midnight_state_and_process(services: Services, tmp_path: Path):
    state = FakeState(battery=True, idle=400)
    engine, clock, rec = make_engine(services, tmp_path, """
        - id: night
          triggers: [{event: custom.check}]
          conditions:
            - time: {after: "22:00", before: "06:00"}
          actions: [{notify: {title: "night"}}]
        - id: idle_on_battery
          triggers: [{event: custom.check}]
          conditions:
            - state: {on_battery: true, idle: 5m}
            - process_running: "fire*"
          actions: [{notify: {title: "idle"}}]
    """, state=state)
    engine.tick(Sample.fixed({}, [ProcInfo(10, "firefox")]))
    from datetime import time

    from agent.automation.conditions import in_time_window

    assert in_time_window(time(23, 0), time(22, 0), time(6, 0))
    assert in_time_window(time(5, 59), time(22, 0), time(6, 0))
    assert not in_time_window(time(12, 0), time(22, 0), time(6, 0))
    engine._sample = Sample.fixed({}, [ProcInfo(10, "firefox")])
    engine.fire_event("custom.check")
    assert "idle" in rec.titles
    state.idle = 10
    engine.fire_event("custom.check")
    assert rec.titles.count("idle") == 1


def test_process_trigger_started_stopped_and_count(services: Services, tmp_path: Path):
    engine, clock, rec = make_engine(services, tmp_path, """
        - id: editor
          triggers:
            - process: {name: "vim", event: started}
            - process: {name: "vim", event: stopped}
          actions: [{notify: {title: "vim {count}"}}]
        - id: many
          triggers: [{process: {name: "python*", count_above: 2}}]
          actions: [{notify: {title: "{count} pythons"}}]
          on_clear: [{notify: {title: "fewer pythons"}}]
    """)
    vim, py = ProcInfo(5, "vim"), [ProcInfo(i, "python3") for i in range(3)]
    tick(engine, clock, {}, processes=[])
    tick(engine, clock, {}, processes=[vim, *py])
    tick(engine, clock, {}, processes=[vim, *py])
    tick(engine, clock, {}, processes=py[:1])
    assert rec.titles == ["vim 1", "3 pythons", "vim 0", "fewer pythons"]


def test_schedule_every_cron_and_missed_runs_while_asleep(services: Services, tmp_path: Path):
    engine, clock, rec = make_engine(services, tmp_path, """
        - id: often
          triggers: [{schedule: {every: 60s}}]
          actions: [{notify: {title: "often"}}]
        - id: catch_up
          triggers: [{schedule: {every: 1h, missed: run_once}}]
          actions: [{notify: {title: "catch up"}}]
        - id: skipper
          triggers: [{schedule: {cron: "*/30 * * * *"}}]
          actions: [{notify: {title: "half hour"}}]
    """)
    for _ in range(7):
        tick(engine, clock, {}, every=10)
    assert rec.titles.count("often") == 1
    clock.suspend(5 * 3600)  # the machine sleeps five hours: the wall clock jumps, the monotonic one does not
    tick(engine, clock, {}, every=10)
    assert [n.name for n in rec.notices] == ["agent.resumed"]
    assert rec.titles.count("catch up") == 1  # run_once: one run for the missed ones
    assert rec.titles.count("half hour") == 0  # skip (the default)
    assert rec.titles.count("often") == 1
    for _ in range(6 * 30 + 1):  # half an hour more: every trigger back to its rhythm
        tick(engine, clock, {}, every=10)
    assert rec.titles.count("half hour") == 1
    assert rec.titles.count("often") >= 30


def test_file_trigger_debounces_bursts(services: Services, tmp_path: Path):
    watched = tmp_path / "inbox"
    watched.mkdir()
    engine, clock, rec = make_engine(services, tmp_path / "rules", f"""
        - id: inbox
          triggers: [{{file: {{path: "{watched}", events: [created, modified], pattern: "*.pdf", debounce: 5s}}}}]
          actions: [{{notify: {{title: "{{count}} changes, last {{path}}"}}}}]
    """)
    for i in range(4):
        engine.file_event(str(watched / f"a{i}.pdf"), "created")
        clock.advance(1)
    engine.file_event(str(watched / "ignored.txt"), "created")
    engine.file_event(str(watched / "a0.pdf"), "deleted")  # not an event this trigger listens to
    engine.advance()
    assert rec.alerts == []
    clock.advance(5)
    engine.advance()
    assert rec.titles == [f"4 changes, last {watched / 'a3.pdf'}"]


def test_hotkey_and_voice_triggers_fire_through_their_functions(services: Services, tmp_path: Path):
    engine, clock, rec = make_engine(services, tmp_path, """
        - id: keys
          triggers: [{hotkey: "<ctrl>+<alt>+h"}]
          actions: [{notify: {title: "hotkey"}}]
        - id: words
          triggers: [{voice: ["[please] check the (disk|disks) on {mount}", "disk check"]}]
          actions: [{notify: {title: "checking {mount}"}}]
    """)
    assert engine.hotkeys() == {"<ctrl>+<alt>+h": ["keys"]}
    assert engine.fire_hotkey("<alt>+<ctrl>+H") == ["keys"]
    assert engine.fire_voice("Please check the disks on home!") == ["words"]
    assert engine.fire_voice("what time is it") == []
    assert rec.titles == ["hotkey", "checking home"]


def test_bus_notice_events_and_their_data_filter(services: Services, tmp_path: Path):
    engine, clock, rec = make_engine(services, tmp_path, """
        - id: serious
          triggers: [{event: {type: security.finding, data: {severity: [high, critical]}}}]
          actions: [{notify: {title: "{severity}: {title}"}}]
    """)
    detach = engine.attach()
    services.bus.publish(Notice("security.finding", {"severity": "low", "title": "meh"}))
    services.bus.publish(Notice("security.finding", {"severity": "high", "title": "open port"}))
    detach()
    services.bus.publish(Notice("security.finding", {"severity": "high", "title": "after detach"}))
    assert rec.titles == ["high: open port"]


def test_reload_keeps_state_of_unchanged_rules_and_resets_changed_triggers(services: Services, tmp_path: Path):
    rules = """
- id: keep
  triggers: [{metric: cpu.percent, above: 90, for: {checks: 3}}]
  actions: [{notify: {title: "keep fired"}}]
- id: text
  triggers: [{metric: cpu.percent, above: 90, for: {checks: 3}}]
  actions: [{notify: {title: "text fired"}}]
- id: change
  triggers: [{metric: cpu.percent, above: 90, for: {checks: 3}}]
  actions: [{notify: {title: "change fired"}}]
"""
    engine, clock, rec = make_engine(services, tmp_path, rules)
    tick(engine, clock, {"cpu.percent": 95})
    tick(engine, clock, {"cpu.percent": 95})
    kept = engine.rules["keep"]
    edited = rules.replace('"text fired"', '"new text fired"').replace(
        'above: 90, for: {checks: 3}}]\n  actions: [{notify: {title: "change', 'above: 91, for: {checks: 3}}]\n'
        '  actions: [{notify: {title: "change')
    assert edited.count("above: 91") == 1
    write_rules(tmp_path, edited)
    result = engine.reload()
    assert not result.errors
    assert any(n.name == "rules.reloaded" for n in rec.notices)
    assert engine.rules["keep"] is kept  # unchanged: the very same compiled rule, live state and all
    tick(engine, clock, {"cpu.percent": 95})
    # the pending `for` counters survived where the trigger did not change (even with new action text)
    assert rec.titles == ["keep fired", "new text fired"]
    tick(engine, clock, {"cpu.percent": 95})
    tick(engine, clock, {"cpu.percent": 95})
    assert rec.titles == ["keep fired", "new text fired", "change fired"]


def test_bad_rule_is_isolated_and_an_invalid_edit_keeps_the_old_version(services: Services, tmp_path: Path):
    write_rules(tmp_path, """
- id: good
  triggers: [{metric: cpu.percent, above: 90}]
  actions: [{notify: {title: "good"}}]
- id: bad
  triggers: [{metric: cpu.percnt, above: 90}]
  actions: [{notify: {title: "bad"}}]
""")
    from agent.automation import Engine

    engine = Engine(services, rule_paths=[tmp_path], clock=ManualClock(), system=FakeState())
    result = engine.load()
    assert [str(p) for p in result.errors] == [
        f"{tmp_path / 'rules.yaml'}:6:23: bad.triggers[0].metric: unknown metric 'cpu.percnt' "
        "(did you mean 'cpu.percent'?)"]
    assert set(engine.rules) == {"good"}
    write_rules(tmp_path, """
- id: good
  triggers: [{metric: cpu.percent, abov: 90}]
  actions: [{notify: {title: "good"}}]
""")
    result = engine.reload()
    assert "did you mean 'above'" in str(result.errors[0])
    assert set(engine.rules) == {"good"}  # the previous, valid version keeps running


def test_a_failing_rule_does_not_stop_the_others(services: Services, tmp_path: Path):
    engine, clock, rec = make_engine(services, tmp_path, """
- id: broken
  triggers: [{metric: load.1, above: 1}]
  actions: [{notify: {title: "broken"}}]
- id: fine
  triggers: [{metric: cpu.percent, above: 90}]
  actions: [{notify: {title: "fine"}}]
""")

    class Exploding(Sample):
        def get(self, name: str) -> float | None:
            if name == "load.1":
                raise RuntimeError("sensor exploded")
            return super().get(name)

    clock.advance(10)
    engine.tick(Exploding(clock.time(), None, {"cpu.percent": 95.0}))
    assert rec.titles == ["fine"]
    assert engine.rules["broken"].errors == 1
    assert "sensor exploded" in (engine.rules["broken"].last_error or "")


def test_state_survives_a_restart(services: Services, tmp_path: Path):
    text = """
- id: hot
  triggers: [{metric: temperature.max, above: 80, clear_below: 70, for: {checks: 2}}]
  actions: [{notify: {title: "hot {value}"}}]
  on_clear: [{notify: {title: "cool {value}"}}]
"""
    engine, clock, rec = make_engine(services, tmp_path, text)
    tick(engine, clock, {"temperature.max": 85})
    engine.save()
    engine2, clock, rec2 = make_engine(services, tmp_path, None, clock=clock)  # a new process, same store
    tick(engine2, clock, {"temperature.max": 86})
    assert rec2.titles[-1:] == ["hot 86"]  # the first check counted before the restart
    engine2.save()
    engine3, clock, rec3 = make_engine(services, tmp_path, None, clock=clock)
    tick(engine3, clock, {"temperature.max": 60})
    assert rec3.titles[-1:] == ["cool 60"]  # still firing after the restart, so the recovery is told


def test_templates_use_rule_variables_and_any_metric(services: Services, tmp_path: Path):
    engine, clock, rec = make_engine(services, tmp_path, """
- id: tpl
  variables: {who: "Ada"}
  triggers: [{metric: cpu.percent, above: 90}]
  actions:
    - notify: {title: "{who}: CPU {value}% ({value:.2f}), {memory.available_mb} MB free, {unknown} {battery.percent}"}
""")
    tick(engine, clock, {"cpu.percent": 93.456, "memory.available_mb": 1234.5})
    assert rec.titles == ["Ada: CPU 93% (93.46), 1234 MB free, {unknown} n/a"]


def test_a_paused_engine_fires_nothing_until_resumed(services: Services, tmp_path: Path):
    engine, clock, rec = make_engine(services, tmp_path, HYSTERESIS)
    engine.pause()
    tick(engine, clock, {"cpu.percent": 50})
    tick(engine, clock, {"cpu.percent": 99})
    assert rec.titles == []
    engine.resume()
    tick(engine, clock, {"cpu.percent": 50})
    tick(engine, clock, {"cpu.percent": 99})
    assert rec.titles == ["CPU at 99%"]
