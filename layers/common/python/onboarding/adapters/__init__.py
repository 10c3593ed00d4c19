"""Adapters to AWS: DynamoDB repositories, the SES mailer, the Cognito identity service."""
