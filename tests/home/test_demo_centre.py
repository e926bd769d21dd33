"""The demo centre looks like a real one: classes of 10 to 25 children, one name per child
but for one pair of namesakes in two classes; and the segment describer behind the owner's
"lapsed regulars" in words."""

from collections import Counter

from app.services import segments as seg
from devtools.demo import CLASSES, DEMO_CUSTOMERS, DEMO_WORDS, _class_index, _demo_name


def test_demo_classes_are_10_to_25_children_with_their_own_names():
    classes = Counter(_class_index(number, len(CLASSES)) for number in range(DEMO_CUSTOMERS))
    assert len(classes) == len(CLASSES) and all(10 <= size <= 25 for size in classes.values())
    names = [_demo_name(number, DEMO_WORDS["afterschool"])[0] for number in range(DEMO_CUSTOMERS)]
    twice = {name: count for name, count in Counter(names).items() if count > 1}
    assert twice == {"梁雅婷": 2}
    where = {_class_index(n, len(CLASSES)) for n, name in enumerate(names) if name == "梁雅婷"}
    assert len(where) == 2  # the namesakes are in two classes
    assert not any(name[-1].isdigit() for name in names)  # no "Amy Chen 3"


def test_the_describer_gives_the_builders_parts_or_none():
    assert seg.describe("level:A,B and visited > 180d") == [
        ("levels", ["A", "B"]),
        ("no_visit_days", 180),
    ]
    assert seg.describe("tag:VIP and not tag:競爭對手 and has:email") == [
        ("include", ["VIP"]), ("exclude", ["競爭對手"]), ("has_email", True),
    ]  # fmt: skip
    assert seg.describe("tag:A or level:B") is None  # the builder cannot show it: raw text
    assert seg.describe("") is None
