"""Make a user a platform operator on a running `make dev` (operators have no public route):

    make operator USERNAME=alice

The user logs in again afterwards; the new ID token carries ``cognito:groups: operators``.
"""

from __future__ import annotations

import json
import sys

import boto3

from infra.local.state import read_state
from infra.platform import PLATFORM
from onboarding.adapters.dynamo import Table
from onboarding.adapters.repositories.users import UserRepository
from onboarding.domain.rules import canonical_email


def make_operator(login: str) -> str:
    state = read_state()
    session = boto3.session.Session(
        aws_access_key_id="local", aws_secret_access_key="local", region_name=state["region"]
    )
    users = UserRepository(
        Table(state["table_name"], client=session.client("dynamodb", endpoint_url=state["endpoint_url"]))
    )
    is_email = "@" in login
    account = users.find_login(canonical_email(login) if is_email else login, is_email=is_email)
    if account is None:
        raise SystemExit(f"no user {login!r} on the local platform")
    cognito = session.client("cognito-idp", endpoint_url=state["endpoint_url"])
    cognito.admin_add_user_to_group(
        UserPoolId=state["user_pool_id"], Username=account.user_id, GroupName=PLATFORM.operators_group
    )
    return account.user_id


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
                "next": f"log in again: the new ID token carries cognito:groups {PLATFORM.operators_group}",
            }
        )
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
