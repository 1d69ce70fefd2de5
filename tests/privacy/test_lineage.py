"""Protection derived from lineage: careless demonstrators are refused, whatever they declare.

Each test replays the real energy demonstrator on the sample territory's stored inputs
(the end-to-end run of `sample_project`) with one function made careless as a team
writing its first demonstrator might, and checks that the release refuses it naming the
table, the column and the fix; the demonstrator as written passes, and its manifests'
count columns come from the protection records.
"""

from __future__ import annotations

import hashlib

import numpy as np
import pandas as pd
import pytest

from pipelines.api import protected_cells, protected_value
from pipelines.assets.release import DemonstratorView, protected_sources, protection_of
from pipelines.assets.store import read_frame
from pipelines.catalogue import load_territory
from pipelines.catalogue.load import territory_sources
from pipelines.components.lineage import perturbed, replay
from pipelines.errors import PrivacyError
from pipelines.privacy.statistics import recording
from tests_support import load_demonstrator

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def energy(sample_project):
    """The energy demonstrator, the sample's sources and every stored input of its steps."""
    card, registry, module = load_demonstrator("energy_precarity")
    territory = load_territory("sample")
    sources = territory_sources(territory)
    store = sample_project["root"] / ".datacites" / "store" / "sample"
    refs = {ref for step in [*card.steps.values(), card.summary] for ref in step.inputs.values()} | set(card.steps)
    frames = {ref: read_frame(store / card.id / f"{ref}.parquet" if ref in card.steps else store / f"{ref}.parquet")
              for ref in refs}
    return {"card": card, "registry": registry, "module": module, "territory": territory, "sources": sources,
            "frames": frames}


def release(energy, *, card=None, registry=None, **functions):
    """Run the lineage audit of a release of `energy` with some step functions replaced."""
    card = card or energy["card"]
    registry = registry or energy["registry"]
    module = energy["module"]
    steps = {**card.steps, "summary": card.summary}
    chosen = {name: functions.get(name) or getattr(module, step.function) for name, step in steps.items()}
    view = DemonstratorView(card, energy["territory"], energy["sources"], registry)
    from pipelines.catalogue import StepContext

    ctx = StepContext.build(card, energy["territory"], energy["sources"], registry)
    roots = {ref: energy["frames"][ref] for ref in ("aggregated_operator_consumption", "anonymised_smart_meter")}
    produced = replay(card, chosen, energy["frames"], ctx, roots)
    tables = {zoning: produced.get(name, energy["frames"][name]) for zoning, name in card.published_steps().items()}
    return protection_of(card, view, chosen, energy["frames"], protected_sources(card, energy["sources"]), tables)


def refused(energy, **kwargs) -> str:
    with pytest.raises(PrivacyError) as caught:
        release(energy, **kwargs)
    return str(caught.value)


def with_indicator(energy, name: str, like: str, sources: list[str]):
    """A card and registry publishing one more indicator, declared with `sources`."""
    registry = dict(energy["registry"])
    registry[name] = registry[like].model_copy(update={"id": name, "sources": sources})
    card = energy["card"].model_copy(update={"indicators": [*energy["card"].indicators, name]})
    return {"card": card, "registry": registry}


def hidden_meter_cells(energy) -> pd.DataFrame:
    meters = energy["frames"]["anonymised_smart_meter"]
    return meters[(meters["zoning"] == "iris") & meters["secret"].notna() & meters["secret"].astype(str).ne("")]


def test_the_sample_hides_some_meter_cells_so_the_attacks_below_have_something_to_find(energy):
    assert len(hidden_meter_cells(energy)) >= 1


def test_the_demonstrator_as_written_passes_and_its_counts_come_from_the_records(energy):
    lineage = release(energy)
    assert lineage.findings == []
    assert lineage.counts["iris"] == {"metered_households": "households", "operator_delivery_points": "delivery_points"}
    assert lineage.counts["grid"] == {}  # INSEE's public grid: nothing of the shared data
    iris = lineage.columns["iris"]
    assert iris["metered_consumption_per_household"] == ["smart_meter"]
    assert iris["consumption_ratio"] == ["operator_consumption"]
    assert "share_fg" not in iris and "households" not in iris  # public data only
    assert lineage.records["operator_consumption_per_dwelling"].statistic == "derived"


def test_a_count_under_an_undeclared_name_read_from_the_aggregates_is_refused(energy):
    module = energy["module"]

    def careless(households, dwellings, operator, meters, iris, *, ctx):
        table = module.indicators_by_iris(households, dwellings, operator, meters, iris, ctx=ctx)
        cells = meters[meters["zoning"] == "iris"].set_index("zone_id")["units"]
        table["compteurs"] = table["code_iris"].map(cells).astype("float64")  # hidden cells included
        return table

    message = refused(energy, indicators_iris=careless, **with_indicator(energy, "compteurs", "metered_households", ["dpe"]))
    assert "table energy_precarity_iris, column 'compteurs'" in message
    assert "change when only the hidden cells" in message
    assert "computed from smart_meter (private or personal) but carries no protection record" in message
    assert "Fix:" in message


def test_a_mean_published_where_its_count_is_hidden_is_refused(energy):
    module = energy["module"]

    def careless(households, dwellings, operator, meters, iris, *, ctx):
        table = module.indicators_by_iris(households, dwellings, operator, meters, iris, ctx=ctx)
        cells = meters[meters["zoning"] == "iris"].set_index("zone_id")
        table["metered_consumption_per_household"] = table["code_iris"].map(cells["conso_kwh"] / cells["units"]) / 1000
        return table

    message = refused(energy, indicators_iris=careless)
    assert "table energy_precarity_iris, column 'metered_consumption_per_household'" in message
    hidden = len(hidden_meter_cells(energy))
    assert f"{hidden} published cell(s) change when only the hidden cells" in message


def test_a_protected_count_copied_under_another_name_needs_a_record(energy):
    module = energy["module"]

    def careless(households, dwellings, operator, meters, iris, *, ctx):
        table = module.indicators_by_iris(households, dwellings, operator, meters, iris, ctx=ctx)
        table["compteurs"] = table["metered_households"]  # published cells only, but no record
        return table

    message = refused(energy, indicators_iris=careless, **with_indicator(energy, "compteurs", "metered_households", ["dpe"]))
    assert "column 'compteurs': computed from smart_meter" in message
    assert "change when only the hidden cells" not in message  # not a leak, an undeclared statistic


def test_a_figure_declared_public_but_computed_from_the_operator_is_refused(energy):
    module = energy["module"]

    def careless(households, dwellings, operator, meters, iris, *, ctx):
        table = module.indicators_by_iris(households, dwellings, operator, meters, iris, ctx=ctx)
        table["share_fg"] = (table["operator_consumption_mwh"] / 1000).fillna(0.5)  # registry says: DPE only
        return table

    message = refused(energy, indicators_iris=careless)
    assert "table energy_precarity_iris, column 'share_fg': computed from operator_consumption" in message


def test_a_figure_told_by_the_reasons_cells_were_hidden_is_refused(energy):
    module = energy["module"]

    def careless(households, dwellings, operator, meters, iris, *, ctx):
        table = module.indicators_by_iris(households, dwellings, operator, meters, iris, ctx=ctx)
        reasons = meters[meters["zoning"] == "iris"].set_index("zone_id")["secret"].fillna("")
        # primary (too few households) or secondary: tells an attacker a bound
        table["share_fg"] = table["code_iris"].map(reasons.str.startswith("n<").astype("float64")).fillna(0.0)
        return table

    message = refused(energy, indicators_iris=careless)
    assert "table energy_precarity_iris, column 'share_fg'" in message
    assert "change when only the hidden cells" in message


def test_a_new_count_through_protected_cells_passes_and_joins_the_audited_counts(energy):
    module = energy["module"]

    def careful(households, dwellings, operator, meters, iris, *, ctx):
        table = module.indicators_by_iris(households, dwellings, operator, meters, iris, ctx=ctx)
        return table.merge(protected_cells(meters, "iris", "code_iris", {"compteurs": "units"}), on="code_iris")

    lineage = release(energy, indicators_iris=careful, **with_indicator(energy, "compteurs", "metered_households", []))
    assert lineage.findings == []
    # The unit comes from the smart-meter card's rule: the disclosure audit checks it.
    assert lineage.counts["iris"]["compteurs"] == "households"


@pytest.mark.parametrize("text", [
    "hmac:" + hashlib.sha256(b"04937261508314").hexdigest(),
    "12 rue des Lilas, 00001 Fictiville",
])
def test_free_text_outside_the_vocabulary_is_refused_without_showing_it(energy, text):
    module = energy["module"]

    def careless(households, dwellings, operator, meters, iris, *, ctx):
        table = module.indicators_by_iris(households, dwellings, operator, meters, iris, ctx=ctx)
        table["statut"] = ""
        table.loc[table.index[0], "statut"] = text
        return table

    message = refused(energy, indicators_iris=careless)
    assert "table energy_precarity_iris, column 'statut': free text in 1 distinct value(s)" in message
    assert "vocabulary" in message and text not in message


def test_a_raw_territory_total_in_the_summary_is_refused(energy):
    module = energy["module"]
    card = energy["card"]
    summary_step = card.summary.model_copy(update={"inputs": {**card.summary.inputs, "meters": "anonymised_smart_meter"}})

    def careless(iris, commune, meters, *, ctx):
        result = module.summarise(iris, commune, ctx=ctx)
        # every meter, hidden cells included: total - published cells gives the hidden ones
        result["territory_values"]["metered_households"] = float(meters[meters["zoning"] == "iris"]["units"].sum())
        return result

    message = refused(energy, summary=careless, card=card.model_copy(update={"summary": summary_step}))
    assert "demonstrator.json, territory_values.metered_households: changes when only the hidden cells" in message


def test_a_protected_total_under_a_public_indicator_is_refused(energy):
    module = energy["module"]

    def careless(iris, commune, *, ctx):
        result = module.summarise(iris, commune, ctx=ctx)
        published = iris["metered_households"].sum()  # published cells only, but under a public name
        result["territory_values"]["dpe_count"] = float(published)
        return result

    message = refused(energy, summary=careless)
    assert ("demonstrator.json, territory_values.dpe_count: computed from smart_meter (private or personal), "
            "but its indicator 'dpe_count' carries no protection record") in message


def test_protected_value_hides_wherever_a_base_is_hidden():
    table = pd.DataFrame({"kwh": [100.0, np.nan, 50.0], "meters": [20.0, np.nan, np.nan]})
    with recording() as ledger:
        protected_value(table, "mean", table["kwh"] / table["meters"], base=["kwh", "meters"])
        protected_value(table, "flag", [1.0, 1.0, 1.0], base=["meters"], hidden=0.0)
    assert table["mean"].tolist()[0] == 5.0 and table["mean"].isna().tolist() == [False, True, True]
    assert table["flag"].tolist() == [1.0, 0.0, 0.0]
    assert ledger["mean"].statistic == "derived" and ledger["mean"].base == ("kwh", "meters")
    with pytest.raises(KeyError, match="base columns \\['units'\\]"):
        protected_value(table, "x", [1, 2, 3], base=["units"])


def test_protected_cells_records_the_count_and_the_statistics_of_its_cells():
    aggregates = pd.DataFrame({"zoning": ["iris", "iris"], "zone_id": ["0000010101", "0000010102"],
                               "units": [12.0, 3.0], "conso_kwh": [1200.0, 90.0], "secret": [None, "primary"]})
    with recording() as ledger:
        cells = protected_cells(aggregates, "iris", "code_iris", {"n": "units", "kwh": "conso_kwh"})
    assert cells["n"].tolist()[0] == 12.0 and np.isnan(cells["n"].tolist()[1]) and np.isnan(cells["kwh"].tolist()[1])
    assert cells["secret_n"].tolist() == ["", "primary"]
    assert ledger["n"].statistic == "count" and ledger["kwh"].statistic == "cell" and ledger["kwh"].base == ("n",)


def test_the_hidden_perturbation_changes_hidden_cells_only():
    aggregates = pd.DataFrame({"zoning": ["iris"] * 3, "zone_id": ["a", "b", "c"], "units": [12.0, 3.0, 20.0],
                               "share_mode_car": [0.5, 0.2, 0.9], "conso": [10.5, 2.5, 7.25],
                               "secret": [None, "primary", ""]})
    moved = perturbed(aggregates, np.random.default_rng(1), hidden_only=True)
    numbers = ["units", "share_mode_car", "conso"]
    assert moved.loc[[0, 2], numbers].equals(aggregates.loc[[0, 2], numbers])
    assert (moved.loc[1, numbers] != aggregates.loc[1, numbers]).all()
    assert 0 <= moved.loc[1, "share_mode_car"] <= 1 and moved.loc[1, "units"] == round(moved.loc[1, "units"])
    blanked = aggregates.assign(units=[12.0, np.nan, 20.0])  # what the anonymiser leaves in a hidden cell
    assert perturbed(blanked, np.random.default_rng(1), hidden_only=True).loc[1, "units"] >= 3
    everything = perturbed(aggregates, np.random.default_rng(1), hidden_only=False)
    assert (everything[numbers] != aggregates[numbers]).all().all()
