"""YAML with positions (`agent.yamlmarks`), the one reader of the config file and the rule files."""

from __future__ import annotations

import pytest
import yaml

from agent.yamlmarks import error_mark, load_marked

TEXT = """\
base: &base
  level: 1
  name: shared
items:
  - <<: *base
    name: first
  - plain
top: 2
top: 3
"""


def test_data_marks_and_duplicates() -> None:
    doc = load_marked(TEXT)
    assert doc.data == {"base": {"level": 1, "name": "shared"}, "items": [{"level": 1, "name": "first"}, "plain"],
                        "top": 3}  # a merge key is merged; YAML keeps the last of a key given twice
    assert doc.keys[("items",)] == (4, 1)
    assert doc.values[("items", 1)] == (7, 5)
    assert doc.mark(("items", 0, "name"), key=True) == (6, 5)
    assert doc.mark(("items", 0, "level"), key=True) == (5, 5)  # merged in: the item's own mark
    assert doc.duplicates == [(("top",), (9, 1), (8, 1))]
    assert load_marked("# nothing\n").data is None


def test_syntax_errors_say_where() -> None:
    with pytest.raises(yaml.YAMLError) as caught:
        load_marked("a: [1, 2\nb: 3\n")
    assert error_mark(caught.value) == (2, 2)
