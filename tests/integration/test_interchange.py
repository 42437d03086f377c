"""Item-bank import and export on real files other projects wrote (../shared/data/item-banks), broken copies of
them, a QTI package and a Canvas QTI 1.2 zip assembled here, and round trips through our own export."""

from __future__ import annotations

import shutil
import zipfile
from fractions import Fraction
from pathlib import Path
from typing import Any

import pytest
import yaml

from tutor.cli import main
from tutor.course.interchange import gift
from tutor.course.interchange.common import FormatError
from tutor.course.interchange.exporter import export_course
from tutor.course.interchange.importer import import_banks, read_bank, read_course_file
from tutor.course.loader import load_course, validate_course
from tutor.course.models import CourseFile
from tutor.grading import parse_number

BANKS = Path(__file__).resolve().parents[2] / ".." / "shared" / "data" / "item-banks"
GIFT = BANKS / "moodle-questions.gift.txt"
QTI_CHOICE = BANKS / "qti21-choice.xml"
QTI_TEXT = BANKS / "qti21-text-entry.xml"
CONTENT = Path(__file__).resolve().parents[2] / "content"

pytestmark = pytest.mark.skipif(not GIFT.is_file(), reason="../shared/data/item-banks is not present")


def empty_course(root: Path, skills: tuple[str, ...] = ("general",), course_id: str = "imp") -> Path:
    """A course folder with skills and a source for each, but no items yet."""
    folder = root / course_id
    (folder / "sources").mkdir(parents=True)
    listed = "\n".join(f"  - id: {s}\n    title: {s.title()}\n    objectives: [Know {s}.]" for s in skills)
    (folder / "course.yaml").write_text(f"id: {course_id}\ntitle: Imported\nskills:\n{listed}\n")
    for s in skills:
        (folder / "sources" / f"{s}.md").write_text(f"---\nskills: [{s}]\nstyle: definition\n---\n# {s}\nText.\n")
    return folder


def course_file(folder: Path) -> CourseFile:
    course = read_course_file(folder)
    assert isinstance(course, CourseFile)
    return course


# ---------------------------------------------------------------- GIFT


def test_moodles_gift_fixture_maps_each_question_or_reports_it_with_its_line() -> None:
    parsed = read_bank(GIFT)
    by_name = {q.name: q for q in parsed.questions}
    assert [q.name for q in parsed.questions] == ["Q8", "Q2", "Q5", "Shortanswer", "Q1", "2-08 TSL", "2-08 TSL"]
    q2 = by_name["Q2"].fields
    assert q2["kind"] == "multiple_choice"
    assert [(c["text"], c["correct"], c["feedback"]) for c in q2["choices"]] == [
        ("yellow", True, "right; good!"), ("red", False, "wrong, it's yellow"), ("blue", False, "wrong, it's yellow")]
    assert by_name["Q5"].fields == {"kind": "numeric", "answer": 3.0, "tolerance": 2.0,
                                    "prompt": "What is a number from 1 to 5?"}
    assert by_name["Shortanswer"].fields["accepted"] == ["Frog"]
    q1 = by_name["Q1"].fields
    assert [(c["text"], c["correct"]) for c in q1["choices"]] == [("True", False), ("False", True)]
    assert q1["explanation"].startswith("This is, of course, a Hitchiker's Guide")
    assert by_name["Q8"].needs_rubric and by_name["Q8"].fields["kind"] == "free_response"
    unsupported = {(n.where, n.question): n.message for n in parsed.notes if n.level == "unsupported"}
    assert unsupported == {
        ("5", "Moodle activities"): "matching questions cannot be represented",
        ("22", "colours"): "multiple response (2 answers earn credit) cannot be represented as a single-answer item",
    }
    changed = [str(n) for n in parsed.notes if n.level == "changed"]
    assert "moodle-questions.gift.txt:34: [changed] 'Shortanswer' 50% credit for 'Cat' cannot be represented; " \
           "it counts as wrong" in changed


def test_gift_grammar_on_escapes_categories_ranges_wildcards_and_missing_words() -> None:
    text = (
        b"$CATEGORY: $course$/top/Fractions/Form B\n\n"
        b"// a comment\n"
        b"::esc::Is 1\\=1 \\{really\\}?{=yes \\# sure#right~no}\n\n"
        b"::range::Pick a number.{#1..5}\n\n"
        b"::wild::Name a frog.{=Fr*g}\n\n"
        b"::gap::The sun rises in the {=east ~west} every morning.\n"
    )
    parsed = gift.parse(text, "mine.gift")
    fields = {q.name: q.fields for q in parsed.questions}
    assert fields["esc"]["prompt"] == "Is 1=1 {really}?"
    assert fields["esc"]["choices"][0] == {"text": "yes # sure", "correct": True, "feedback": "right"}
    assert (fields["range"]["answer"], fields["range"]["tolerance"]) == (3.0, 2.0)
    assert fields["wild"]["pattern"] == "(?:Fr.*g)"
    assert fields["gap"]["prompt"] == "The sun rises in the _____ every morning."
    assert {q.category for q in parsed.questions} == {"$course$/top/Fractions/Form B"}


def test_importing_the_gift_fixture_writes_a_bank_that_validates_and_an_essay_draft(tmp_path: Path) -> None:
    folder = empty_course(tmp_path)
    report = import_banks([GIFT], folder, course_file(folder), skill="general")
    assert report.ok, report.lines()
    assert validate_course(folder) == []
    bank = yaml.safe_load((folder / "items" / "general.yaml").read_text())
    assert len(bank["items"]) == 6
    assert {i["form"] for i in bank["items"]} == {"A", "B"}
    assert len({i["id"] for i in bank["items"]}) == 6  # the two "2-08 TSL" questions get distinct ids
    assert len(report.drafts) == 1
    draft = yaml.safe_load((folder / "drafts" / f"{report.drafts[0]}.yaml").read_text())
    assert draft["status"] == "pending" and draft["items"][0]["prompt"] == "How are you?"
    assert any("[unsupported] 'Moodle activities'" in line for line in report.lines())


def test_without_a_category_or_skill_the_import_fails_and_writes_nothing(tmp_path: Path) -> None:
    folder = empty_course(tmp_path)
    report = import_banks([GIFT], folder, course_file(folder))
    assert not report.ok
    assert "moodle-questions.gift.txt:14: question 'Q2' has no category or section to name its skill; give " \
           "--skill ID" in report.problems
    assert not (folder / "items").exists() and not (folder / "drafts").exists()


def test_an_import_that_would_leave_the_course_invalid_writes_nothing(tmp_path: Path) -> None:
    folder = empty_course(tmp_path)
    report = import_banks([QTI_CHOICE, QTI_TEXT], folder, course_file(folder), skill="general")
    assert not report.ok
    assert any("skill 'general' has 2 items; at least 6 needed" in p for p in report.problems)
    assert not (folder / "items").exists()


def test_broken_gift_copies_report_each_problem_with_its_line(tmp_path: Path) -> None:
    text = GIFT.read_text()
    broken = text.replace("~[plain]blue # wrong, it's yellow\n}", "~[plain]blue # wrong, it's yellow\n", 1)
    broken = broken.replace("::Q1:: 42 is the Absolute", "::Q1 42 is the Absolute", 1)
    path = tmp_path / "broken.gift"
    path.write_text(broken)
    parsed = read_bank(path)
    notes = {n.where: n.message for n in parsed.notes if n.level == "unsupported"}
    assert notes["14"] == "answer block '{' is never closed; add '}'"
    assert notes["41"] == "title opened with '::' is never closed; add the closing '::'"
    path.write_bytes(b"::Q::caf\xe9 {T}\n")
    assert [str(n) for n in read_bank(path).notes] == ["broken.gift:1: [unsupported] not UTF-8 text; save the file "
                                                      "as UTF-8"]


# ---------------------------------------------------------------- QTI 2.1


def test_qti21_example_items_map_choice_and_text_entry() -> None:
    choice = read_bank(QTI_CHOICE)
    [item] = choice.questions
    assert item.name == "Unattended Luggage"
    assert "[image: NEVER LEAVE LUGGAGE UNATTENDED]" in item.fields["prompt"]
    assert item.fields["prompt"].endswith("What does it say?")
    assert [c["correct"] for c in item.fields["choices"]] == [True, False, False]
    assert [n.message for n in choice.notes] == ["image images/sign.png is not carried; its alt text is used instead"]
    text = read_bank(QTI_TEXT)
    [entry] = text.questions
    assert entry.fields["kind"] == "short_text"
    assert entry.fields["accepted"] == ["York"] and entry.fields["case_sensitive"] is True
    assert "this sun of\n_____" in entry.fields["prompt"]
    assert [(n.where, n.level) for n in text.notes] == [("5 (assessmentItem textEntry)", "changed")]
    assert "partial credit (0.5 of 1) for 'york'" in text.notes[0].message


def test_broken_qti_copies_are_reported_with_file_and_line(tmp_path: Path) -> None:
    truncated = tmp_path / "truncated.xml"
    truncated.write_bytes(QTI_CHOICE.read_bytes()[:900])
    with pytest.raises(FormatError, match=r"^truncated.xml:\d+: not well-formed XML"):
        read_bank(truncated)
    matching = tmp_path / "matching.xml"
    matching.write_text(QTI_CHOICE.read_text().replace("choiceInteraction", "matchInteraction"))
    parsed = read_bank(matching)
    assert parsed.questions == []
    assert [str(n) for n in parsed.notes] == [
        "matching.xml:6 (assessmentItem choice): [unsupported] 'Unattended Luggage' matchInteraction cannot be "
        "represented"]
    no_alt = tmp_path / "no-alt.xml"
    no_alt.write_text(QTI_CHOICE.read_text().replace(' alt="NEVER LEAVE LUGGAGE UNATTENDED"', ""))
    assert [n.message for n in read_bank(no_alt).notes] == [
        "image images/sign.png has no alt text and cannot be carried"]
    two_gaps = tmp_path / "two-gaps.xml"
    two_gaps.write_text(QTI_TEXT.read_text().replace(
        "buried.</p>", 'buried <textEntryInteraction responseIdentifier="R2"/>.</p>'))
    assert "2 interactions in one item" in read_bank(two_gaps).notes[0].message


def test_a_qti_package_with_a_test_maps_sections_to_skills_and_forms(tmp_path: Path) -> None:
    test = (
        '<assessmentTest xmlns="http://www.imsglobal.org/xsd/imsqti_v2p1" identifier="t" title="T">'
        '<testPart identifier="p" navigationMode="linear" submissionMode="individual">'
        '<assessmentSection identifier="s1" title="Reading/Form B" visible="true">'
        '<assessmentItemRef identifier="a" href="items/qti21-choice.xml"/></assessmentSection>'
        '<assessmentSection identifier="s2" title="Literature" visible="true">'
        '<assessmentItemRef identifier="b" href="items/qti21-text-entry.xml"/></assessmentSection>'
        "</testPart></assessmentTest>")
    package = tmp_path / "package.zip"
    with zipfile.ZipFile(package, "w") as archive:
        archive.writestr("imsmanifest.xml", "<manifest/>")
        archive.writestr("test.xml", test)
        archive.write(QTI_CHOICE, "items/qti21-choice.xml")
        archive.write(QTI_TEXT, "items/qti21-text-entry.xml")
    parsed = read_bank(package)
    assert {q.name: q.category for q in parsed.questions} == {
        "Unattended Luggage": "Reading/Form B", "Richard III (Take 3)": "Literature"}
    assert parsed.questions[0].file == "package.zip/items/qti21-choice.xml"


def test_a_zip_member_outside_the_package_is_refused(tmp_path: Path) -> None:
    package = tmp_path / "evil.zip"
    with zipfile.ZipFile(package, "w") as archive:
        archive.writestr("../outside.xml", "<quiz/>")
    with pytest.raises(FormatError, match="points outside the package"):
        read_bank(package)


# ---------------------------------------------------------------- Canvas QTI 1.2

CANVAS_QUIZ = """<?xml version="1.0" encoding="UTF-8"?>
<questestinterop xmlns="http://www.imsglobal.org/xsd/ims_qtiasiv1p2">
  <assessment ident="g1" title="General">
    <section ident="root_section">
      <item ident="i1" title="Colour">
        <itemmetadata><qtimetadata>
          <qtimetadatafield><fieldlabel>question_type</fieldlabel><fieldentry>multiple_choice_question</fieldentry>
          </qtimetadatafield></qtimetadata></itemmetadata>
        <presentation>
          <material><mattext texttype="text/html">&lt;p&gt;Between orange and green?&lt;/p&gt;</mattext></material>
          <response_lid ident="response1" rcardinality="Single"><render_choice>
            <response_label ident="1"><material><mattext texttype="text/plain">yellow</mattext></material>
            </response_label>
            <response_label ident="2"><material><mattext texttype="text/plain">red</mattext></material></response_label>
          </render_choice></response_lid>
        </presentation>
        <resprocessing>
          <outcomes><decvar maxvalue="100" minvalue="0" varname="SCORE" vartype="Decimal"/></outcomes>
          <respcondition continue="Yes"><conditionvar><varequal respident="response1">2</varequal></conditionvar>
            <displayfeedback feedbacktype="Response" linkrefid="2_fb"/></respcondition>
          <respcondition continue="No"><conditionvar><varequal respident="response1">1</varequal></conditionvar>
            <setvar action="Set" varname="SCORE">100</setvar></respcondition>
        </resprocessing>
        <itemfeedback ident="2_fb"><flow_mat><material><mattext texttype="text/plain">Red comes before orange.</mattext>
        </material></flow_mat></itemfeedback>
      </item>
      <item ident="i2" title="Range">
        <itemmetadata><qtimetadata><qtimetadatafield><fieldlabel>question_type</fieldlabel>
          <fieldentry>numerical_question</fieldentry></qtimetadatafield></qtimetadata></itemmetadata>
        <presentation><material><mattext texttype="text/plain">A number near 3?</mattext></material>
          <response_str ident="response1" rcardinality="Single"><render_fib fibtype="Decimal"/></response_str>
        </presentation>
        <resprocessing><respcondition continue="No"><conditionvar><or>
          <varequal respident="response1">3</varequal>
          <and><vargte respident="response1">2.5</vargte><varlte respident="response1">3.5</varlte></and>
        </or></conditionvar><setvar action="Set" varname="SCORE">100</setvar></respcondition></resprocessing>
      </item>
      <item ident="i3" title="Pairs">
        <itemmetadata><qtimetadata><qtimetadatafield><fieldlabel>question_type</fieldlabel>
          <fieldentry>matching_question</fieldentry></qtimetadatafield></qtimetadata></itemmetadata>
        <presentation><material><mattext>Match them.</mattext></material></presentation>
      </item>
    </section>
  </assessment>
</questestinterop>
"""


def test_a_canvas_qti12_export_zip_maps_choice_numeric_and_reports_matching(tmp_path: Path) -> None:
    package = tmp_path / "canvas-export.zip"
    with zipfile.ZipFile(package, "w") as archive:
        archive.writestr("imsmanifest.xml", "<manifest/>")
        archive.writestr("g1/g1.xml", CANVAS_QUIZ)
        archive.writestr("g1/assessment_meta.xml", "<quiz/>")  # Canvas's settings file: not questions
    parsed = read_bank(package)
    fields = {q.name: q.fields for q in parsed.questions}
    assert fields["Colour"]["prompt"] == "Between orange and green?"
    assert fields["Colour"]["choices"] == [
        {"text": "yellow", "correct": True, "feedback": None},
        {"text": "red", "correct": False, "feedback": "Red comes before orange."}]
    assert (fields["Range"]["answer"], fields["Range"]["tolerance"]) == (3.0, 0.5)
    assert {q.category for q in parsed.questions} == {"General"}
    [note] = parsed.notes
    assert note.file == "canvas-export.zip/g1/g1.xml" and note.where.endswith("(item i3)")
    assert note.message == "matching question cannot be represented"


# ---------------------------------------------------------------- round trips


def _comparable(item: Any) -> dict[str, Any]:
    # what the export reports as not carried: tags, pass_points, exact-fraction rules, answer patterns; and the
    # labelled free-text examples, which neither Moodle XML nor QTI has a place for
    data = item.model_dump(exclude={"id", "misconception", "pass_points", "allow_equivalent",
                                    "require_lowest_terms", "pattern", "examples"}, exclude_none=True)
    for choice in data.get("choices", []):
        choice.pop("misconception", None)
    if "answer" in data:
        number = parse_number(str(data["answer"]))
        assert number is not None
        data["answer"] = Fraction(number.value).limit_denominator(1000)
    return data


@pytest.mark.parametrize("fmt,name", [("moodle-xml", "bank.xml"), ("qti", "bank.zip")])
@pytest.mark.parametrize("course_id", ["data-privacy", "fractions"])
def test_export_then_import_gives_equivalent_items(tmp_path: Path, fmt: str, name: str, course_id: str) -> None:
    original = load_course(CONTENT / course_id)
    data, notes = export_course(original, fmt)  # type: ignore[arg-type]
    out = tmp_path / name
    out.write_bytes(data)
    target = tmp_path / "copy" / course_id
    shutil.copytree(CONTENT / course_id, target)
    shutil.rmtree(target / "items")
    report = import_banks([out], target, course_file(target))
    left_out = [n for n in notes if "left out" in n]
    templated = sum(1 for items in original.items.values() for i in items if getattr(i, "template", None))
    assert len(left_out) == templated
    assert report.ok, report.lines()
    imported = load_course(target)
    assert {i.id for items in imported.items.values() for i in items} == {
        i.id for items in original.items.values() for i in items if not getattr(i, "template", None)}
    for skill, items in original.items.items():
        expected = sorted((_comparable(i) for i in items if not getattr(i, "template", None)),
                          key=lambda d: d["form"])  # the export groups a skill's items by form
        got = [_comparable(i) for i in imported.items[skill]]
        for want, have in zip(expected, got, strict=True):
            assert have == want, skill


def test_the_cli_imports_exports_and_reimports_a_moodle_xml_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                                 capsys: pytest.CaptureFixture[str]) -> None:
    content = tmp_path / "content"
    empty_course(content)
    monkeypatch.setenv("TUTOR_CONTENT_DIR", str(content))
    assert main(["content", "import", str(GIFT), "--course", "imp", "--skill", "general"]) == 0
    assert "imported 6 item(s)" in capsys.readouterr().out
    exported = tmp_path / "out.xml"
    assert main(["content", "export", "--course", "imp", "--format", "moodle-xml", str(exported)]) == 0
    again = empty_course(tmp_path / "again", course_id="imp")
    report = import_banks([exported], again, course_file(again))  # categories "general/Form A" name the skill
    assert report.ok, report.lines()
    first = load_course(content / "imp")
    second = load_course(again)
    assert [_comparable(i) for i in second.items["general"]] == \
        sorted([_comparable(i) for i in first.items["general"]], key=lambda d: d["form"])
    assert main(["content", "import", str(tmp_path / "missing.gift"), "--course", "imp"]) == 1
    assert "missing.gift: cannot read the file" in capsys.readouterr().out


def test_bytes_that_are_no_known_format_say_so(tmp_path: Path) -> None:
    path = tmp_path / "other.xml"
    path.write_text("<html><body/></html>")
    with pytest.raises(FormatError, match=r"other.xml:1: XML root <html> is not Moodle XML"):
        read_bank(path)


def test_broken_copies_of_an_exported_moodle_xml_file_report_each_problem_at_its_line(tmp_path: Path) -> None:
    data, _ = export_course(load_course(CONTENT / "fractions"), "moodle-xml")
    lines = data.decode().splitlines()
    starts = [n for n, text in enumerate(lines, 1) if '<question type="multichoice">' in text]
    first, second = starts[0], starts[1]
    lines[first - 1] = lines[first - 1].replace("multichoice", "ddwtos")
    text_line = next(n for n in range(second, len(lines)) if "<questiontext" in lines[n - 1]) + 1
    lines[text_line - 1] = lines[text_line - 1].replace("<text>", '<text>&lt;img src="@@PLUGINFILE@@/a.png"&gt; ')
    category = next(n for n, text in enumerate(lines, 1) if "$course$/top/comparing/Form A" in text)
    lines[category - 1] = lines[category - 1].replace("comparing", "Comparing decimals")
    broken = tmp_path / "broken.xml"
    broken.write_text("\n".join(lines))
    parsed = read_bank(broken)
    notes = {n.where: n.message for n in parsed.notes}
    assert notes[str(first)] == "drag and drop into text cannot be represented"
    assert notes[str(second)] == "image @@PLUGINFILE@@/a.png has no alt text and cannot be carried"
    target = tmp_path / "fractions"
    shutil.copytree(CONTENT / "fractions", target)
    report = import_banks([broken], target, course_file(target))
    assert not report.ok
    assert any(p.startswith("broken.xml:") and "category '$course$/top/Comparing decimals/Form A' maps to skill "
               "'comparing-decimals', which course fractions does not have" in p for p in report.problems)
    assert (target / "items" / "comparing.yaml").read_text() == (CONTENT / "fractions" / "items" /
                                                                  "comparing.yaml").read_text()
    broken.write_text("\n".join(lines[: len(lines) // 2]))
    with pytest.raises(FormatError, match=r"^broken.xml:\d+: not well-formed XML"):
        read_bank(broken)


def test_a_canvas_question_bank_objectbank_names_the_skill_by_its_bank_title(tmp_path: Path) -> None:
    item = CANVAS_QUIZ[CANVAS_QUIZ.index('<item ident="i2"'):CANVAS_QUIZ.index('<item ident="i3"')]
    bank = ('<questestinterop xmlns="http://www.imsglobal.org/xsd/ims_qtiasiv1p2"><objectbank ident="b1">'
            "<qtimetadata><qtimetadatafield><fieldlabel>bank_title</fieldlabel><fieldentry>Estimation"
            f"</fieldentry></qtimetadatafield></qtimetadata>{item}</objectbank></questestinterop>")
    path = tmp_path / "bank.xml"
    path.write_text(bank)
    [question] = read_bank(path).questions
    assert (question.name, question.category) == ("Range", "Estimation")
