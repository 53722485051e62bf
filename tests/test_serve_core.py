"""The service every front end of `semantic serve` shares (semantic.serve): tokens and roles,
limits, the plan cache, hot reload, and answers equal to `Project.query`'s."""

from __future__ import annotations

import datetime as dt
import threading
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path

import pytest

from semantic.errors import SemanticError
from semantic.project import Project
from semantic.serve.service import Service
from tests.compare import same_value
from tests.serving import TOKENS, copy_project, wait_for

REVENUE = "SELECT customer_region, net_revenue ORDER BY customer_region"
EXTRA = """\
domain: extra
terms:
  big_order_count:
    label: {en: Big order count, fr: Nombre de grosses commandes}
    definition: {en: Orders over 300000., fr: Commandes de plus de 300000.}
    metric:
      entity: orders
      expr: count(*)
      filter: order_total_price > 300000
"""


def codes(exc: pytest.ExceptionInfo[SemanticError]) -> list[str]:
    return [d.code for d in exc.value.diagnostics]


@pytest.fixture
def service(tmp_path: Path) -> Iterator[Service]:
    served = Service.open(copy_project(tmp_path, "  anonymous_role: emea_analyst\n"))
    yield served
    served.close()


def test_tokens_name_callers_and_roles(service: Service) -> None:
    ann = service.authenticate(TOKENS["ann"][0])
    assert (ann.name, ann.role) == ("ann", "emea_analyst")
    carla = service.authenticate(TOKENS["carla"][0])
    assert dict(carla.user) == {"nation": "FRANCE"}
    assert service.authenticate(None).role == "emea_analyst"
    with pytest.raises(SemanticError) as refused:
        service.authenticate("tok-owner-0123456789abcdeX")
    assert codes(refused) == ["SEM121"]


def test_without_an_anonymous_role_a_token_is_needed(tmp_path: Path) -> None:
    served = Service.open(copy_project(tmp_path))
    with pytest.raises(SemanticError) as refused:
        served.authenticate(None)
    assert codes(refused) == ["SEM121"]
    served.close()


def test_answers_are_the_projects(service: Service) -> None:
    project = Project.load(service.root)
    for name, (token, role, user) in TOKENS.items():
        caller = service.authenticate(token)
        got = service.query(caller, REVENUE).table.to_pylist()
        want = project.query(REVENUE, role=role, user=user).to_pylist()
        assert same_value(got, want), name
    ann = service.query(service.authenticate(TOKENS["ann"][0]), REVENUE).table
    assert ann.column("customer_region").to_pylist() == ["EUROPE"]


def test_a_role_is_refused_what_it_may_not_read(service: Service) -> None:
    bob = service.authenticate(TOKENS["bob"][0])
    with pytest.raises(SemanticError) as refused:
        service.query(bob, "SELECT customer_name, order_count")
    assert codes(refused) == ["SEM331"]


def test_labels_in_a_language(service: Service) -> None:
    owner = service.authenticate(TOKENS["owner"][0])
    answer = service.query(owner, REVENUE, language="fr")
    assert answer.headers == ["Région client", "Chiffre d'affaires net"]
    assert service.query(owner, REVENUE).headers == ["customer_region", "net_revenue"]


def test_limits(tmp_path: Path) -> None:
    served = Service.open(
        copy_project(tmp_path, "  limits: {query_chars: 60, rows: 3, concurrent: 1}\n")
    )
    owner = served.authenticate(TOKENS["owner"][0])
    with pytest.raises(SemanticError) as long:
        served.compile(owner, "SELECT net_revenue WHERE " + " OR ".join(["1 = 1"] * 20))
    assert codes(long) == ["SEM455"]
    with pytest.raises(SemanticError) as many:
        served.query(owner, "SELECT customer_nation, order_count")
    assert codes(many) == ["SEM435"]
    with served.request(owner, limited=True), pytest.raises(SemanticError) as busy:
        served.query(owner, "SELECT order_count")
    assert codes(busy) == ["SEM456"]
    assert served.query(owner, "SELECT order_count").table.num_rows == 1  # the slot is free
    served.close()


def test_plan_cache_hits_and_is_cleared_by_reload(service: Service) -> None:
    owner = service.authenticate(TOKENS["owner"][0])
    first = service.compile(owner, REVENUE).sql
    for _ in range(3):
        assert service.compile(owner, REVENUE).sql == first
    stats = service.status()["plan_cache"]
    assert (stats["hits"], stats["misses"]) == (3, 1)
    ann = service.authenticate(TOKENS["ann"][0])
    assert service.compile(ann, REVENUE).sql != first  # a role is another key
    assert service.reload()
    assert service.status()["plan_cache"]["hits"] == 0


def test_a_request_finishes_on_the_version_it_started_with(service: Service) -> None:
    owner = service.authenticate(TOKENS["owner"][0])
    with service.request(owner) as old:
        (service.root / "glossary" / "extra.yml").write_text(EXTRA)
        assert service.reload()
        assert service.version is not old and old.retired
        # the old version still answers: its engine is closed only once this request ends
        assert old.project.query("SELECT order_count").num_rows == 1
        assert "big_order_count" not in old.project.model.terms
    assert service.query(owner, "SELECT big_order_count").table.num_rows == 1


def test_hot_reload_keeps_the_last_good_version(service: Service) -> None:
    owner = service.authenticate(TOKENS["owner"][0])
    service.watch(debounce=0.05)
    extra = service.root / "glossary" / "extra.yml"
    extra.write_text(EXTRA)
    wait_for(lambda: service.status()["version"] == 2)
    want = Project.load(service.root).query("SELECT big_order_count").to_pylist()
    assert service.query(owner, "SELECT big_order_count").table.to_pylist() == want

    extra.write_text(EXTRA.replace("expr: count(*)", "expr: count(*"))
    wait_for(lambda: service.status()["reloads"]["failed"] >= 1)
    status = service.status()
    assert status["version"] == 2 and not status["healthy"]
    assert status["errors"][0]["code"] == "SEM457"
    broken = status["errors"][1]
    assert (broken["code"], broken["file"], broken["line"]) == ("SEM104", "glossary/extra.yml", 8)
    assert broken["col"] > 0
    assert service.query(owner, "SELECT big_order_count").table.to_pylist() == want

    extra.write_text(EXTRA)
    wait_for(lambda: service.status()["version"] == 3)
    assert service.status()["healthy"]


def test_a_bad_token_file_is_refused_at_its_place(tmp_path: Path) -> None:
    root = copy_project(tmp_path)
    tokens = root / "tokens.yml"
    tokens.write_text(tokens.read_text().replace("role: emea_analyst", "role: emea_analsyt"))
    with pytest.raises(SemanticError) as refused:
        Service.open(root)
    first = refused.value.diagnostics[0]
    assert first.code == "SEM120" and "emea_analyst" in (first.hint or "")
    assert str(first.span).startswith("tokens.yml:")


def test_concurrent_callers_share_one_version(service: Service) -> None:
    owner = service.authenticate(TOKENS["owner"][0])
    want = service.query(owner, REVENUE).table.to_pylist()
    failures: list[BaseException] = []

    def ask() -> None:
        try:
            for _ in range(5):
                assert service.query(owner, REVENUE).table.to_pylist() == want
        except BaseException as exc:  # noqa: BLE001 - reported below
            failures.append(exc)

    threads = [threading.Thread(target=ask) for _ in range(3)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    # three callers share the owner's token: more than four at once would be refused
    assert failures == []


SECRET = """\
domain: extra
terms:
  secret_margin:
    label: {en: Secret margin, fr: Marge secrète}
    definition: {en: Twice the net revenue., fr: Deux fois le chiffre d'affaires net.}
    confidentiality: restricted
    metric:
      expr: net_revenue * 2
"""


def test_a_card_and_a_lineage_name_no_term_above_the_callers_clearance(tmp_path: Path) -> None:
    """A restricted metric computed from net_revenue is named by net_revenue's card for the
    owner, and neither its card nor its lineage names it for the analyst."""
    import json

    from semantic.serve import glossary

    root = copy_project(tmp_path, "  anonymous_role: analyst\n")
    (root / "glossary" / "secret.yml").write_text(SECRET)
    served = Service.open(root)
    try:
        owner = served.authenticate(TOKENS["owner"][0])
        analyst = served.authenticate(None)
        version = served.version
        assert "secret_margin" in json.dumps(glossary.term(version, owner, "net_revenue"))
        for shown in (
            glossary.term(version, analyst, "net_revenue"),
            glossary.lineage(version, analyst, "net_revenue"),
        ):
            text = json.dumps(shown, ensure_ascii=False)
            assert "secret_margin" not in text and "Marge secrète" not in text
    finally:
        served.close()


@pytest.mark.parametrize(
    "query, values",
    [
        (
            "SELECT customer_region, order_count WHERE order_date >= $p ORDER BY 1",
            [dt.date(1997, 1, 1), "1997-01-01", dt.datetime(1997, 1, 1), 1997, "1997"],
        ),
        (
            "SELECT customer_region, order_count WHERE order_count > $p ORDER BY 1",
            [3000, "3000", Decimal("3000"), 3000.0, "3e3", dt.date(1997, 1, 1), "x"],
        ),
    ],
    ids=["date", "number"],
)
def test_a_parameters_type_never_changes_the_cached_plan(
    service: Service, query: str, values: list[object]
) -> None:
    """The plan cache keys a plan by the query's text, the role, the caller's attributes and
    the model, not by the parameters' shape: the compiled SQL names `$p` and never holds its
    value, which the engine binds. Each value, of whatever type, gets from the cached plan
    the answer (or the refusal) a project with no cache gives."""
    owner = service.authenticate(TOKENS["owner"][0])
    fresh = Project.load(service.root)
    sqls = set()
    for value in values:
        params = {"p": value}
        try:
            want = [list(r.values()) for r in fresh.query(query, params).to_pylist()]
        except SemanticError as exc:
            with pytest.raises(SemanticError) as refused:
                service.query(owner, query, params)
            assert codes(refused) == [d.code for d in exc.diagnostics], value
            continue
        got = service.query(owner, query, params).table.to_pylist()
        assert same_value([list(r.values()) for r in got], want), value
        sqls.add(service.compile(owner, query).sql)
    assert len(sqls) == 1
    assert service.status()["plan_cache"]["hits"] > 0
