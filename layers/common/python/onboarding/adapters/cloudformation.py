"""CloudFormation custom resources: the request a resource's Lambda gets, and its answer,
which goes to the pre-signed ``ResponseURL`` of the request (an HTTP PUT, as the custom
resource protocol says), never as the Lambda's return value."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from onboarding.domain.errors import ResponseNotDelivered


class CustomResourceRequest(BaseModel):
    """A request of CloudFormation (fields as CloudFormation names them)."""

    model_config = ConfigDict(extra="ignore", frozen=True)
    request_type: Literal["Create", "Update", "Delete"] = Field(alias="RequestType")
    response_url: str = Field(alias="ResponseURL")
    stack_id: str = Field(alias="StackId")
    request_id: str = Field(alias="RequestId")
    logical_resource_id: str = Field(alias="LogicalResourceId")
    physical_resource_id: str | None = Field(default=None, alias="PhysicalResourceId")
    properties: dict[str, Any] = Field(default_factory=dict, alias="ResourceProperties")
    old_properties: dict[str, Any] | None = Field(default=None, alias="OldResourceProperties")

    def own_properties(self, old: bool = False) -> dict[str, Any] | None:
        """The resource's properties without CloudFormation's ``ServiceToken``."""
        values = self.old_properties if old else self.properties
        if values is None:
            return None
        return {k: v for k, v in values.items() if k != "ServiceToken"}


class CustomResourceResponse(BaseModel):
    model_config = ConfigDict(populate_by_name=True, frozen=True)
    status: Literal["SUCCESS", "FAILED"] = Field(alias="Status")
    reason: str = Field(default="", alias="Reason", max_length=1024)
    physical_resource_id: str = Field(alias="PhysicalResourceId")
    stack_id: str = Field(alias="StackId")
    request_id: str = Field(alias="RequestId")
    logical_resource_id: str = Field(alias="LogicalResourceId")
    data: dict[str, str] = Field(default_factory=dict, alias="Data")

    @classmethod
    def to(
        cls,
        request: CustomResourceRequest,
        *,
        physical_resource_id: str,
        reason: str = "",
        data: dict[str, str] | None = None,
        failed: bool = False,
    ) -> CustomResourceResponse:
        return cls(
            status="FAILED" if failed else "SUCCESS",
            reason=reason[:1024],
            physical_resource_id=physical_resource_id,
            stack_id=request.stack_id,
            request_id=request.request_id,
            logical_resource_id=request.logical_resource_id,
            data=data or {},
        )


def respond(request: CustomResourceRequest, response: CustomResourceResponse, *, timeout: float = 10) -> None:
    """Put the answer where CloudFormation waits for it. The URL is pre-signed without a
    content type, so none is sent. ``ResponseNotDelivered``."""
    import httpx

    body = response.model_dump_json(by_alias=True).encode("utf-8")
    try:
        answer = httpx.put(
            request.response_url,
            content=body,
            headers={"Content-Type": "", "Content-Length": str(len(body))},
            timeout=timeout,
            trust_env=False,
        )
    except httpx.HTTPError as exc:
        raise ResponseNotDelivered(type(exc).__name__) from exc
    if answer.status_code >= 300:
        raise ResponseNotDelivered(f"HTTP {answer.status_code}")
