"""Policies, the router's traffic split and sticky keys, and the route policy of the new endpoints."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from modelport.foundation.errors import InvalidInputError, NotFoundError, OverloadedError
from modelport.http.policy import requirement
from modelport.rollout.policy import Policy, Route, Shadow, single, split
from modelport.rollout.spec import parse_duration
from modelport.serving.router import Router, Traffic, key_point, sticky_key


def test_policy_round_trips_and_maps_to_traffic() -> None:
    policy = Policy("canary", (Route(2, 5), Route(1, 95)), (Shadow(3, 0.5),), "header:X-User-Id")
    assert Policy.from_dict(policy.to_dict()) == policy
    assert policy.traffic(None) == Traffic(((2, 5.0), (1, 95.0)), ((3, 0.5),), "header:X-User-Id")
    assert policy.percentages(None) == {"2": 5.0, "1": 95.0}
    assert Policy().traffic(4) == Traffic.single(4) and Policy().traffic(None) is None
    assert Policy().percentages(4) == {"4": 100.0} and Policy().follows_champion
    assert split(1, 2, 30, strategy="ab").routes == (Route(2, 30), Route(1, 70))
    assert single(3).percentages(None) == {"3": 100.0}


@pytest.mark.parametrize(("data", "message"), [
    ({"strategy": "nope"}, "strategy"),
    ({"routes": [{"version": 1, "weight": 0}]}, "above 0"),
    ({"routes": [{"version": 1, "weight": 150}]}, "between 0 and 100"),
    ({"routes": [{"version": 1}, {"version": 1}]}, "twice"),
    ({"routes": [{"version": "x"}]}, "whole number"),
    ({"routes": [{"weight": 5}]}, "version"),
    ({"routes": [{"version": 1}], "shadows": [{"version": 2, "fraction": 0}]}, "fraction"),
    ({"routes": [{"version": 1}], "sticky": "cookie:abc"}, "header:NAME"),
    ([1, 2], "JSON object"),
])
def test_bad_policies_are_refused_by_name(data, message) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(InvalidInputError, match=message):
        Policy.from_dict(data)


def test_weighted_split_is_within_3_points_over_4000_keys_and_sticky() -> None:
    router = Router(seed=1)
    router.switch_traffic("m", Traffic(((2, 30.0), (1, 70.0)), sticky="header:X-User-Id"))
    picks = [router.pick("m", headers={"X-User-Id": f"u{i}"}) for i in range(4000)]
    assert abs(picks.count(2) / 4000 - 0.30) < 0.03
    assert all(router.pick("m", headers={"X-User-Id": f"u{i}"}) == picks[i] for i in range(200))
    unsticky = [router.pick("m") for _ in range(4000)]
    assert abs(unsticky.count(2) / 4000 - 0.30) < 0.03


def test_a_sticky_caller_in_the_canary_stays_as_it_grows() -> None:
    small, large = Traffic(((2, 10.0), (1, 90.0))), Traffic(((2, 50.0), (1, 50.0)))
    points = [key_point(f"u{i}", "m") for i in range(1000)]
    assert all(large.choose(p) == 2 for p in points if small.choose(p) == 2)


def test_zero_weight_routes_stay_loaded_but_get_no_traffic() -> None:
    traffic = Traffic(((2, 100.0), (1, 0.0)))
    assert traffic.versions == {1, 2} and traffic.primary == 2
    assert {traffic.choose(p) for p in np.linspace(0, 0.999, 50)} == {2}


def test_sticky_keys_from_headers_and_inputs() -> None:
    assert sticky_key("header:X-User-Id", {"X-User-Id": "7"}, None) == "7"
    assert sticky_key("header:X-User-Id", None, None) is None
    assert sticky_key("input:user", None, pd.DataFrame({"user": [5, 6]})) == "5"
    assert sticky_key("input:user", None, {"user": [9]}) == "9"
    assert sticky_key("input:user", None, [{"user": "a"}]) == "a"
    assert sticky_key("input:user", None, [[1, 2]]) is None
    assert sticky_key(None, {"X": "1"}, None) is None


def test_router_errors_and_shadows() -> None:
    router = Router(seed=0)
    with pytest.raises(NotFoundError, match="not served"):
        router.pick("m")
    router.expect("m")
    with pytest.raises(OverloadedError, match="loading"):
        router.pick("m")
    router.switch_traffic("m", Traffic(((1, 100.0),), ((2, 1.0), (3, 0.5))))
    copies = [router.shadows("m") for _ in range(400)]
    assert all(2 in c for c in copies) and 0.4 < sum(3 in c for c in copies) / 400 < 0.6
    assert router.switch("m", 4) == 1 and router.current("m") == 4 and router.served() == {"m": 4}


def test_durations() -> None:
    assert parse_duration("5m") == 300 and parse_duration("90") == 90 and parse_duration(2.5) == 2.5
    with pytest.raises(InvalidInputError, match="step_duration"):
        parse_duration("soon", "step_duration")


@pytest.mark.parametrize(("method", "path", "scope"), [
    ("GET", "/api/v1/deployments/iris", "read"),
    ("PUT", "/api/v1/deployments/iris", "manage"),
    ("GET", "/api/v1/rollouts/iris", "read"),
    ("POST", "/api/v1/rollouts/iris/promote", "manage"),
    ("POST", "/api/v1/rollouts/iris/abort", "manage"),
])
def test_the_route_policy_names_the_new_routes(method: str, path: str, scope: str) -> None:
    needed = requirement(method, path)
    assert needed.scopes == frozenset({scope}) and needed.model == "iris"
