"""Make a user a platform operator on a running `make dev` (operators have no public route):

    make operator USERNAME=alice

The user logs in again afterwards; the new ID token carries ``cognito:groups: operators``.
"""

from __future__ import annotations

import json
import sys

import boto3

from infra.local.state import read_state
from onboarding.domain.rules import canonical_email, canonical_username

OPERATORS_GROUP = "operators"


def make_operator(login: str) -> str:
    state = read_state()
    session = boto3.session.Session(
        aws_access_key_id="local", aws_secret_access_key="local", region_name=state["region"]
    )
    dynamodb = session.client("dynamodb", endpoint_url=state["endpoint_url"])
    key = (
        (f"EMAIL#{canonical_email(login)}", "EMAIL")
        if "@" in login
        else (f"USERNAME#{canonical_username(login)}", "USERNAME")
    )
    item = dynamodb.get_item(TableName=state["table_name"], Key={"pk": {"S": key[0]}, "sk": {"S": key[1]}})
    if "Item" not in item:
        raise SystemExit(f"no user {login!r} on the local platform")
    user_id = item["Item"]["user_id"]["S"]
    cognito = session.client("cognito-idp", endpoint_url=state["endpoint_url"])
    cognito.admin_add_user_to_group(
        UserPoolId=state["user_pool_id"], Username=user_id, GroupName=OPERATORS_GROUP
    )
    return user_id


def main(argv: list[str]) -> int:
    if len(argv) != 1 or not argv[0].strip():
        print("usage: make operator USERNAME=<username or email>", file=sys.stderr)
        return 2
    user_id = make_operator(argv[0].strip())
    print(
        json.dumps(
            {
                "operator": argv[0].strip(),
                "user_id": user_id,
                "next": "log in again: the new ID token carries cognito:groups operators",
            }
        )
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
