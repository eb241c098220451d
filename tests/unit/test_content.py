import pytest

from knowledge.content import GuideError, load_guide, parse_document
from tests.helpers import write_guide


def test_guide_exposes_phases_and_milestones_from_front_matter(tmp_path):
    write_guide(tmp_path)
    guide = load_guide(tmp_path)
    assert [p.number for p in guide.phases] == [1, 3]
    phase = guide.phase(1)
    assert phase is not None
    assert phase.duration == "2–4 months"
    assert [m.id for m in phase.milestones] == ["p1-supervised"]
    assert guide.milestone("p3-deploy").section == "Deployment"
    assert guide.milestone("nope") is None


def test_content_hash_changes_with_any_edit(tmp_path):
    write_guide(tmp_path)
    before = load_guide(tmp_path).content_hash
    path = tmp_path / "09-faq.md"
    path.write_text(path.read_text() + "\nOne more line.\n")
    assert load_guide(tmp_path).content_hash != before


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("no front matter", "missing YAML front matter"),
        ("---\nphase: 7\n---\nbody", "phase must be one of"),
        ("---\nphase: [\n---\nbody", "not valid YAML"),
        ("---\nphase: 1\nmilestones:\n  - {id: Bad Id, title: x}\n---\n", "must look like"),
        ("---\nphase: null\nmilestones:\n  - {id: p1-x, title: x}\n---\n", "with a phase"),
    ],
)
def test_malformed_guide_files_are_reported_with_the_file_name(text, message):
    with pytest.raises(GuideError, match=message) as info:
        parse_document("broken", text)
    assert "broken" in str(info.value)


def test_duplicate_milestone_ids_across_files_are_rejected(tmp_path):
    write_guide(tmp_path)
    text = (tmp_path / "01-phase-one.md").read_text()
    (tmp_path / "05-copy.md").write_text(text)
    with pytest.raises(GuideError, match="p1-supervised"):
        load_guide(tmp_path)


def test_empty_guide_directory_is_an_error(tmp_path):
    with pytest.raises(GuideError, match="no guide files"):
        load_guide(tmp_path)


def test_a_phase_spread_over_two_files_is_one_phase(tmp_path):
    write_guide(tmp_path)
    (tmp_path / "01b-phase-one-extra.md").write_text(
        "---\ntitle: More phase 1\nphase: 1\nkind: roadmap\nduration: ignored\n"
        "milestones:\n  - {id: p1-extra, title: Extra, section: Extra}\n---\n## Extra\n\nx\n"
    )
    guide = load_guide(tmp_path)
    assert [p.number for p in guide.phases] == [1, 3]
    phase = guide.phase(1)
    assert phase.title == "Phase 1: fundamentals"  # the first file (by name) names it
    assert phase.duration == "2–4 months"
    assert [m.id for m in phase.milestones] == ["p1-supervised", "p1-extra"]


def test_a_guide_file_that_is_not_utf8_is_named(tmp_path):
    write_guide(tmp_path)
    bad = tmp_path / "02-phase-three.md"
    bad.write_bytes(bad.read_bytes().replace(b"production", "producci\xf3n".encode("latin-1")))
    with pytest.raises(GuideError, match=r"02-phase-three\.md: not valid UTF-8 \(byte 0xf3"):
        load_guide(tmp_path)
