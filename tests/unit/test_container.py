"""The composition root loads the embedding model once, even across guide reloads."""

import knowledge.engine
from bot.container import engine_loader
from bot.settings import Settings
from tests.helpers import HashingEmbedder, write_guide


def test_reloading_the_engine_keeps_the_loaded_model(tmp_path, monkeypatch):
    write_guide(tmp_path / "guide")
    models: list[HashingEmbedder] = []

    def fake_model(_index_dir, _name=None, *, export=False):
        models.append(HashingEmbedder())
        return models[-1]

    monkeypatch.setattr(knowledge.engine, "load_embedder", fake_model)
    settings = Settings(
        _env_file=None, mentor_data_dir=tmp_path / "data", mentor_guide_dir=tmp_path / "guide"
    )
    load = engine_loader(settings)
    first = load()
    (tmp_path / "guide" / "09-faq.md").write_text(
        "---\ntitle: FAQ\nphase: null\nkind: faq\n---\n"
        "## Is there a study group?\n\nYes, Fridays.\n"
    )
    second = load()
    assert len(models) == 1  # one model load for both engines
    assert second is not first
    assert "Fridays" in second.ask("Is there a study group?").text
