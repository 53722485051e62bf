"""Results as pandas DataFrames (`pip install 'semantic[pandas]'`): `Project.query_df`, and
`query(...).to_pandas()` through pyarrow; without pandas, SEM412 names the extra."""

from __future__ import annotations

import sys

import pandas as pd
import pytest

from semantic.errors import SemanticError
from semantic.project import Project

QUERY = "SELECT customer_region, order_count, net_revenue ORDER BY customer_region"


def test_query_df_is_the_arrow_result_as_a_dataframe(project: Project) -> None:
    frame = project.query_df(QUERY)
    assert isinstance(frame, pd.DataFrame)
    assert list(frame.columns) == ["customer_region", "order_count", "net_revenue"]
    assert frame.to_dict("records") == project.query(QUERY).to_pylist()
    assert frame["customer_region"].tolist() == [
        "AFRICA",
        "AMERICA",
        "ASIA",
        "EUROPE",
        "MIDDLE EAST",
    ]
    assert int(frame["order_count"].sum()) == 15000
    pd.testing.assert_frame_equal(frame, project.query(QUERY).to_pandas())


def test_query_df_binds_parameters(project: Project) -> None:
    frame = project.query_df(
        "SELECT order_count WHERE customer_region = $region", {"region": "ASIA"}
    )
    assert (
        frame["order_count"].tolist()
        == project.query("SELECT order_count WHERE customer_region = 'ASIA'")
        .column("order_count")
        .to_pylist()
    )


def test_without_pandas_the_error_names_the_extra(
    project: Project, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setitem(sys.modules, "pandas", None)  # `import pandas` now fails
    with pytest.raises(SemanticError) as caught:
        project.query_df(QUERY)
    (found,) = caught.value.diagnostics
    assert found.code == "SEM412" and "needs pandas, which is not installed" in found.message
    assert found.hint and "pip install 'semantic[pandas]'" in found.hint
