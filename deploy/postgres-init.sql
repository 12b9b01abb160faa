-- Temporal keeps its own databases on the same server; the temporal-schema job (deploy/temporal/setup-schema.sh) creates and upgrades their schemas.
CREATE DATABASE temporal;
CREATE DATABASE temporal_visibility;
