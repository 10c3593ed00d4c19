"""The organisations function: KvK search, organisations and their identifiers, VAT
verification, activation and its review, receiving e-invoices, credit."""
