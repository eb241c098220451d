from knowledge.chunking import INTRO_SECTION, chunk_document, chunk_documents
from knowledge.content import parse_document


def doc(body: str, kind: str = "topic", phase: str = "null"):
    return parse_document("page", f"---\ntitle: Page\nphase: {phase}\nkind: {kind}\n---\n{body}")


def test_sections_keep_their_heading_path():
    chunks = chunk_document(
        doc("# Page\n\nIntro text.\n\n## Tools\n\nUse NumPy.\n\n### Plotting\n\nUse matplotlib.\n")
    )
    assert [(c.section, c.text) for c in chunks] == [
        (INTRO_SECTION, "Intro text."),
        ("Tools", "Use NumPy."),
        ("Tools › Plotting", "Use matplotlib."),
    ]
    assert chunks[2].heading_path == "Page › Tools › Plotting"
    assert chunks[2].embedding_text().startswith("Page › Tools › Plotting\n")


def test_a_sibling_heading_replaces_the_previous_one():
    chunks = chunk_document(doc("## A\n\n### A1\n\none\n\n## B\n\ntwo\n"))
    assert [c.section for c in chunks] == ["A › A1", "B"]


def test_long_sections_split_on_paragraphs_not_mid_sentence():
    paragraphs = [f"Paragraph {i} " + "word " * 30 for i in range(6)]
    chunks = chunk_document(doc("## Long\n\n" + "\n\n".join(paragraphs)), max_chars=400)
    assert len(chunks) > 1
    assert all(len(c.text) <= 400 for c in chunks)
    assert all(c.section == "Long" for c in chunks)
    rejoined = "\n\n".join(c.text for c in chunks)
    assert rejoined == "\n\n".join(p.strip() for p in paragraphs)


def test_faq_sections_expose_their_question():
    chunks = chunk_document(doc("## Do I need a degree?\n\nNo.\n\n## Notes\n\nx\n", kind="faq"))
    assert chunks[0].question == "Do I need a degree?"
    assert chunks[1].question is None


def test_ids_are_dense_across_documents_and_carry_phase():
    first = doc("## A\n\none\n", phase="1")
    second = parse_document(
        "other", "---\ntitle: Other\nphase: 3\n---\n## B\n\ntwo\n## C\n\nthree\n"
    )
    chunks = chunk_documents([first, second])
    assert [c.id for c in chunks] == [0, 1, 2]
    assert [c.phase for c in chunks] == [1, 3, 3]
    assert [c.document for c in chunks] == ["page", "other", "other"]


def test_empty_sections_produce_no_chunks():
    assert chunk_document(doc("## Empty\n\n## Also empty\n")) == []
