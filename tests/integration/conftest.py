import pytest

from bot.services.mentor import MentorService
from knowledge.engine import load_knowledge


@pytest.fixture(scope="session")
def knowledge(real_embedder, tmp_path_factory):
    """The bundled guide, embedded by the bundled model, into a fresh index directory."""
    return load_knowledge(tmp_path_factory.mktemp("index"), embedder=real_embedder)


@pytest.fixture(scope="session")
def mentor(knowledge):
    return MentorService(knowledge.retriever, knowledge.guide)
