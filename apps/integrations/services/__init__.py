"""Write use cases of the integration domain: webhook endpoints and the delivery of events."""
