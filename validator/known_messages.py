"""Real Dataverse messages that Microsoft's published 9.0 table does not list.

The embedded default (docs/reference: "Supported messages and entities for plug-ins", 9.0)
lists 88 messages: the plug-in-supported ones of 2017-2018. Users also plan messages it never
listed, or that came later, and ``unknown message 'WhoAmI'`` reads as a typo. This list lets the
name resolver say instead that the message is real but the published table does not list it, so
the answer needs a harvest of the org. It is not availability data: nothing is decided from it.

Sources (each name below appears in one of them as a message, SDK request class ``<Name>Request``
or Web API function/action of that name):

- MicrosoftDocs/powerapps-docs, powerapps-docs/developer/data-platform/webapi/
  use-web-api-functions.md (commit 07bda7ad9927a5a74b57e8d5706d0824239c1fd7): WhoAmI
  (``Microsoft.Crm.Sdk.Messages.WhoAmIRequest``), RetrieveUserPrivileges,
  GetTimeZoneCodeByLocalizedName, CalculateRollupField, IncrementKnowledgeArticleViewCount,
  InitializeFrom, IsValidStateTransition, RetrieveDuplicates, RetrieveLocLabels,
  RetrieveAllChildUsersSystemUser, RetrieveBusinessHierarchyBusinessUnit,
  SearchByBodyKbArticle, SearchByKeywordsKbArticle, SearchByTitleKbArticle.
- Microsoft.Xrm.Sdk.Messages namespace (Dynamics CRM 2015/2016 SDK reference on
  learn.microsoft.com, e.g. https://learn.microsoft.com/en-us/previous-versions/dynamicscrm-2016/
  developers-guide/dn947950(v=crm.8) UpsertRequest, .../jj733776(v=crm.8) ExecuteMultipleRequest,
  gg326189(v=crm.7) CreateEntityRequest): Upsert, ExecuteMultiple, ExecuteTransaction and the
  metadata messages (CreateEntity, RetrieveEntity, ...).
- docs/reference/dataverse-webapi.md §bulk messages (Learn: .../webapi/reference/upsertmultiple):
  CreateMultiple, UpdateMultiple, UpsertMultiple, DeleteMultiple.
- Microsoft.Crm.Sdk.Messages namespace (https://learn.microsoft.com/en-us/previous-versions/
  dynamicscrm-2016/developers-guide/gg307329(v=crm.8)): RetrieveVersion,
  RetrieveCurrentOrganization, RetrieveTotalRecordCount, BulkDelete.
"""

from __future__ import annotations

DATAVERSE_MESSAGES: tuple[str, ...] = (
    "BulkDelete",
    "CalculateRollupField",
    "CreateAttribute",
    "CreateEntity",
    "CreateManyToMany",
    "CreateMultiple",
    "CreateOneToMany",
    "CreateOptionSet",
    "DeleteAttribute",
    "DeleteEntity",
    "DeleteMultiple",
    "ExecuteMultiple",
    "ExecuteTransaction",
    "GetTimeZoneCodeByLocalizedName",
    "IncrementKnowledgeArticleViewCount",
    "InitializeFrom",
    "IsValidStateTransition",
    "RetrieveAllChildUsersSystemUser",
    "RetrieveAllEntities",
    "RetrieveAllOptionSets",
    "RetrieveAttribute",
    "RetrieveBusinessHierarchyBusinessUnit",
    "RetrieveCurrentOrganization",
    "RetrieveDuplicates",
    "RetrieveEntity",
    "RetrieveLocLabels",
    "RetrieveMetadataChanges",
    "RetrieveOptionSet",
    "RetrieveRelationship",
    "RetrieveTotalRecordCount",
    "RetrieveUserPrivileges",
    "RetrieveVersion",
    "SearchByBodyKbArticle",
    "SearchByKeywordsKbArticle",
    "SearchByTitleKbArticle",
    "UpdateAttribute",
    "UpdateEntity",
    "UpdateMultiple",
    "Upsert",
    "UpsertMultiple",
    "WhoAmI",
)
_BY_KEY = {m.lower(): m for m in DATAVERSE_MESSAGES}


def dataverse_message(name: str) -> str | None:
    """The canonical spelling when ``name`` is one of these messages (case-insensitive)."""
    return _BY_KEY.get(name.strip().lower())
