"""Which sections an answer quotes and how they share its budget."""

from bot.services.answer_plan import plan_parts, plan_single, render_body
from bot.services.mentor_text import select_passage
from knowledge.chunking import Chunk
from knowledge.retriever import Hit, Retrieval


def chunk(i, document="doc", text="Some text."):
    return Chunk(i, document, "Title", f"Section {i}", text, None, "topic")


def retrieval(*scores, documents=None, probability=0.9, gap=0.0):
    documents = documents or ["a"] * len(scores)
    hits = tuple(
        Hit(chunk(i, d), s, 0.5, 0.0)
        for i, (s, d) in enumerate(zip(scores, documents, strict=True))
    )
    return Retrieval("q", "q", hits, 0.5, 1.0, probability, 0.5, gap)


def test_the_best_section_is_quoted_alone():
    plan = plan_single(retrieval(5.0, 4.9, documents=["a", "b"]))
    assert [h.chunk.id for h in plan.sections] == [0]
    assert [h.chunk.id for h in plan.cited] == [0]


def test_a_runner_up_from_the_same_page_is_cited_not_quoted():
    plan = plan_single(retrieval(5.0, 2.0, documents=["a", "a"]))
    assert [h.chunk.id for h in plan.sections] == [0]
    assert [h.chunk.id for h in plan.cited] == [0, 1]


def test_a_runner_up_within_the_gap_is_quoted_after_the_best():
    plan = plan_single(retrieval(5.0, 4.5, 1.0, documents=["a", "b", "c"], gap=1.0))
    assert [h.chunk.id for h in plan.sections] == [0, 1]
    assert [h.chunk.id for h in plan.cited] == [0, 1]
    assert plan.lead_share is not None
    apart = plan_single(retrieval(5.0, 3.9, documents=["a", "b"], gap=1.0))
    assert [h.chunk.id for h in apart.sections] == [0]
    unasked = plan_single(retrieval(5.0, 4.5, documents=["a", "b"], gap=1.0), quote_runner_up=False)
    assert [h.chunk.id for h in unasked.sections] == [0]


def test_a_lead_share_keeps_the_best_sections_facts_first():
    a = chunk(0, text="Alpha intro. " + "Docker matters. " * 14)
    b = chunk(1, text="Beta intro. " + "More filler words. " * 20)
    even = render_body([a, b], 300, lambda s: 0.0)
    led = render_body([a, b], 300, lambda s: 0.0, lead_share=0.8)
    assert len(led) <= 300
    assert led.count("Docker matters.") > even.count("Docker matters.")
    assert led.index("Alpha intro.") < led.index("Beta intro.")


def test_two_parts_need_two_confident_different_sections():
    first, second = retrieval(5.0), retrieval(4.0)
    assert plan_parts(first, second) is None  # both best sections are chunk 0
    other = Retrieval("q", "q", (Hit(chunk(7), 3.0, 0.5, 0.0),), 0.5, 1.0, 0.9, 0.5)
    assert [h.chunk.id for h in plan_parts(first, other).sections] == [0, 7]
    unsure = Retrieval("q", "q", other.hits, 0.5, 1.0, 0.1, 0.5)
    assert plan_parts(first, unsure) is None
    # Confident (0.7 passes the threshold of 0.5) but not a strong match: one answer, whole.
    weak = Retrieval("q", "q", other.hits, 0.5, 1.0, 0.7, 0.5)
    assert weak.confident
    assert plan_parts(first, weak) is None


def test_render_keeps_each_sections_relevant_sentence_within_budget():
    a = chunk(0, text="Alpha intro. " + "Filler words here. " * 20 + "Docker matters.")
    b = chunk(1, text="Beta intro. " + "More filler. " * 20 + "Kubernetes later.")
    body = render_body([a, b], 200, lambda s: ("Docker" in s) + ("Kubernetes" in s))
    assert len(body) <= 200
    assert "Docker matters." in body
    assert "Kubernetes later." in body


def test_render_keeps_whole_sections_that_fit():
    a, b = chunk(0, text="Short one."), chunk(1, text="Short two.")
    assert render_body([a, b], 100, lambda s: 0.0) == "Short one.\n\nShort two."


def test_select_passage_prefers_relevant_sentences_in_order():
    text = "First point here. Second has docker. Third is filler text that is long."
    assert select_passage(text, 40, lambda s: s.count("docker")) == (
        "First point here. Second has docker."
    )
    assert select_passage(text, 1000, lambda s: 0.0) == text
