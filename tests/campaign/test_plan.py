"""Campaign planning: who gets which variant, each variant rendered once per send (the lints
and the messages share the renderings), composers made on demand, the recipients as they are
now (language, segment), and the forecast the dry run and the confirmation show."""
from __future__ import annotations

from collections import Counter
from pathlib import Path

import pytest
from click.testing import CliRunner

from newsletter.campaign import plan as campaign
from newsletter.cli import main
from newsletter.core.config import load_workspace
from newsletter.core.errors import ValidationFailed
from newsletter.render import pipeline
from newsletter.subscribers.store import Store
from tests.campaign.sending import make_workspace


@pytest.fixture
def renders(monkeypatch) -> Counter[str]:
    """How often each variant (edition/key) is rendered, counted at render.pipeline's one
    rendering function, which every way of rendering goes through."""
    counted: Counter[str] = Counter()
    real = pipeline._render

    def counting(job, env):
        rendering = real(job, env)
        counted[f"{job.loaded.name}/{rendering.variant.key}"] += 1
        return rendering

    monkeypatch.setattr(pipeline, "_render", counting)
    return counted


def test_a_send_renders_each_variant_exactly_once(sample_ws: Path, renders, monkeypatch) -> None:
    make_workspace(sample_ws, 12)
    monkeypatch.setenv("NEWSLETTER_SECRET_KEY", "k" * 32)
    result = CliRunner().invoke(main, ["-C", str(sample_ws), "send", "2026-11", "-s", "all",
                                       "--adapter", "outbox", "--yes"])
    assert result.exit_code == 0, result.output
    assert "sent 12" in result.output
    # Six variants (3 languages x with/without the leaders' blocks), each rendered once for
    # the lints and the twelve messages together.
    assert sorted(renders) == [f"2026-11/{k}" for k in
                               ("de", "de+leaders", "en", "en+leaders", "es", "es+leaders")]
    assert set(renders.values()) == {1}, renders


def test_plan_counts_recipients_per_variant(sample_ws: Path, renders) -> None:
    make_workspace(sample_ws, 12)
    ws = load_workspace(sample_ws)
    with Store.open(ws) as store:
        the_plan = campaign.make_plan(ws, store, "2026-11", "all")
    assert the_plan.total == 12 and len(the_plan.ids) == 12
    assert the_plan.by_language() == {"en": 4, "de": 4, "es": 4}
    assert the_plan.counts == {"en": 3, "en+leaders": 1, "de": 3, "de+leaders": 1, "es": 3, "es+leaders": 1}
    assert set(the_plan.variants) == {"en", "en+leaders", "de", "de+leaders", "es", "es+leaders"}
    assert set(renders.values()) == {1}
    assert the_plan.first["en+leaders"].email == "reader0@example.org"


def test_composers_are_made_once_on_demand(sample_ws: Path) -> None:
    make_workspace(sample_ws, 3)
    ws = load_workspace(sample_ws)
    with Store.open(ws) as store:
        the_plan = campaign.make_plan(ws, store, "2026-11", "all")
    made = campaign.Composers(ws, the_plan.variants, campaign="1")
    assert "es+leaders" in made and "fr" not in made and len(made) == 6
    assert made["es+leaders"] is made["es+leaders"]
    with pytest.raises(KeyError):
        made["fr"]


def test_the_lookup_gives_the_variant_and_segment_of_now(sample_ws: Path) -> None:
    """A subscriber who changed language after the plan gets the variant of their new language;
    one who left the segment or unsubscribed is not found."""
    make_workspace(sample_ws, 6)
    ws = load_workspace(sample_ws)
    with Store.open(ws) as store:
        the_plan = campaign.make_plan(ws, store, "2026-11", "german")
        ids = {s.email: str(s.stored_id) for s in store.iter_all()}
        german = ids["reader1@example.org"]
        assert campaign._lookup(store, the_plan, [german])[german].variant == "de"
        store._conn.execute("UPDATE subscribers SET language = 'es' WHERE id = ?", (int(german),))
        assert campaign._lookup(store, the_plan, [german]) == {}, "left the segment 'german'"
    with Store.open(ws) as store:
        everyone = campaign.make_plan(ws, store, "2026-11", "all")
        store._conn.execute("UPDATE subscribers SET language = 'de', tags = '[\"leader\"]' WHERE id = ?",
                            (int(ids["reader2@example.org"]),))
        found = campaign._lookup(store, everyone, [ids["reader2@example.org"], ids["reader3@example.org"]])
        assert found[ids["reader2@example.org"]].variant == "de+leaders"
        assert found[ids["reader3@example.org"]].variant == "en"
        store.unsubscribe("reader3@example.org")
        assert campaign._lookup(store, everyone, [ids["reader3@example.org"]]) == {}


def test_an_edition_with_errors_is_not_sent(sample_ws: Path) -> None:
    make_workspace(sample_ws, 2)
    article = sample_ws / "issues" / "2026-11" / "articles" / "peer-learning.md"
    # A link a reader's mail program cannot follow: refused before anything is sent.
    article.write_text(article.read_text().replace("(https://mcin.example.org/stories/", "(stories/"))
    ws = load_workspace(sample_ws)
    with Store.open(ws) as store, pytest.raises((campaign.NotReady, ValidationFailed), match="error"):
        campaign.make_plan(ws, store, "2026-11", "all")


def test_a_wave_plans_only_its_languages_and_knows_the_whole_segment(sample_ws: Path) -> None:
    make_workspace(sample_ws, 9)                       # en, de, es in turn
    (sample_ws / "fr.csv").write_text("email,language\nlucie@example.org,fr\n", encoding="utf-8")
    assert CliRunner().invoke(main, ["-C", str(sample_ws), "subscribers", "import", str(sample_ws / "fr.csv")]).exit_code == 0
    ws = load_workspace(sample_ws)
    with Store.open(ws) as store:
        wave = campaign.make_plan(ws, store, "2026-11", "all", languages=["de,en"])
        whole = campaign.make_plan(ws, store, "2026-11", "all", languages=["es", "de,en"])
    assert wave.languages == ("en", "de")             # the edition's order, whatever the order given
    assert wave.by_language() == {"en": 4, "de": 3}   # the French reader gets English, in its wave
    assert {k: len(v) for k, v in wave.everyone.items()} == {"en": 4, "de": 3, "es": 3}
    assert len(wave.ids) == 7 and wave.ids < whole.ids
    assert whole.languages == () and whole.total == 10
