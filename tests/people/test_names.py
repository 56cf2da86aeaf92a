"""People sort by family name, titles and degrees ignored."""

from __future__ import annotations

import pytest

from program.people.names import sort_name
from tests.conftest import login, text_of


@pytest.mark.parametrize(
    ("name", "key"),
    [
        ("Miguel Santos", "santos miguel"),
        ("Dr. Miguel Santos", "santos miguel"),
        ("Santos, Miguel", "santos miguel"),
        ("Prof. Dr. Lena Fischer", "fischer lena"),
        ("Amara Okafor MD", "okafor amara"),
        ("Amara Okafor, MD, PhD", "okafor amara"),
        ("Anna van Dijk", "van dijk anna"),
        ("Émile Zola", "zola emile"),
        ("Cher", "cher"),
        ("Dr.", "dr."),
        ("José María de la Cruz", "de la cruz jose maria"),
    ],
)
def test_sort_name(name, key):
    assert sort_name(name) == key


def test_the_people_list_sorts_by_family_name(app, client, make):
    program = make.program("Internal Medicine Residency", slug="im")
    coordinator = make.coordinator(program, name="Zed Coordinator")
    for name in ("Dr. Zoe Adams", "Aaron Young", "Mia Baker"):
        make.trainee(program, name=name)
    login(client, coordinator.email)
    page = text_of(client.get("/programs/im/people?role=trainee"))
    assert page.index("Dr. Zoe Adams") < page.index("Mia Baker") < page.index("Aaron Young")
