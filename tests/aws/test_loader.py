"""botocore's loader told which services exist: the same models, from
botocore's own data, without listing ~400 service folders."""

from __future__ import annotations

import pytest

pytest.importorskip("botocore")

from botocore.loaders import Loader

from envsecrets_aws.loader import SERVICES, ServicesLoader


@pytest.mark.parametrize("service", SERVICES)
def test_each_service_loads_the_same_model(service: str) -> None:
    assert ServicesLoader().load_service_model(service, "service-2") == Loader().load_service_model(
        service, "service-2"
    )


def test_the_list_is_the_services_used() -> None:
    everything = Loader().list_available_services("service-2")
    assert set(SERVICES) <= set(everything)  # each one exists in botocore's data
    assert ServicesLoader().list_available_services("service-2") == list(SERVICES)
    assert len(everything) > 10 * len(SERVICES)
