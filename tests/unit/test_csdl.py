"""CSDL $metadata reading, hardened against entity tricks."""

from __future__ import annotations

import pytest

from metadata.auth import StaticToken
from metadata.csdl import parse_entity_sets
from metadata.errors import ServerError
from metadata.webapi import WebAPIClient
from tests.emulator_fixtures import EMULATOR_TOKEN


def test_entity_sets_from_the_emulators_metadata(emulator):
    with WebAPIClient(emulator.url, StaticToken(EMULATOR_TOKEN)) as client:
        document = client.request("GET", "$metadata").content
    sets = {s.name: s for s in parse_entity_sets(document)}
    assert sets["sdkmessagefilters"].entity_type == "sdkmessagefilter"
    assert sets["sdkmessagefilters"].key == ("sdkmessagefilterid",)
    assert sets["contoso_inspections"].key == ("contoso_inspectionid",)


def test_alias_and_inherited_keys():
    doc = b"""<edmx:Edmx xmlns:edmx="http://docs.oasis-open.org/odata/ns/edmx" Version="4.0">
      <edmx:DataServices><Schema Namespace="Microsoft.Dynamics.CRM" Alias="mscrm"
        xmlns="http://docs.oasis-open.org/odata/ns/edm">
        <EntityType Name="principal"><Key><PropertyRef Name="ownerid"/></Key></EntityType>
        <EntityType Name="team" BaseType="mscrm.principal"/>
        <EntityContainer Name="System">
          <EntitySet Name="teams" EntityType="Microsoft.Dynamics.CRM.team"/>
        </EntityContainer></Schema></edmx:DataServices></edmx:Edmx>"""
    (s,) = parse_entity_sets(doc)
    assert (s.name, s.entity_type, s.key) == ("teams", "team", ("ownerid",))


def test_external_entities_are_not_resolved(tmp_path):
    secret = tmp_path / "secret.txt"
    secret.write_text("TOP-SECRET")
    doc = f"""<?xml version="1.0"?>
<!DOCTYPE x [<!ENTITY xxe SYSTEM "file://{secret}">]>
<edmx:Edmx xmlns:edmx="http://docs.oasis-open.org/odata/ns/edmx" Version="4.0">
  <edmx:DataServices><Schema Namespace="N" xmlns="http://docs.oasis-open.org/odata/ns/edm">
    <EntityType Name="t"><Key><PropertyRef Name="&xxe;"/></Key></EntityType>
    <EntityContainer Name="System"><EntitySet Name="ts" EntityType="N.t"/></EntityContainer>
  </Schema></edmx:DataServices></edmx:Edmx>""".encode()
    try:
        sets = parse_entity_sets(doc)
    except ServerError as exc:  # refusing the document is fine too
        assert "TOP-SECRET" not in str(exc)
    else:
        assert "TOP-SECRET" not in repr(sets)


def test_not_csdl_is_an_error():
    with pytest.raises(ServerError, match="not valid XML"):
        parse_entity_sets(b"<oops")
    with pytest.raises(ServerError, match="CSDL"):
        parse_entity_sets(b"<html/>")
