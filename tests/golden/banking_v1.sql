PRAGMA foreign_keys=OFF;
BEGIN TRANSACTION;
CREATE TABLE journal_meta (key TEXT PRIMARY KEY, value);
INSERT INTO journal_meta VALUES('format_version',1);
CREATE TABLE streams (
  stream_key INTEGER PRIMARY KEY,
  aggregate_type TEXT NOT NULL,
  aggregate_id TEXT NOT NULL,
  version INTEGER NOT NULL,
  UNIQUE (aggregate_type, aggregate_id));
INSERT INTO streams VALUES(1,'BankAccount','01JADA00000000000000000000',3);
INSERT INTO streams VALUES(2,'BankAccount','01JB0B00000000000000000000',3);
CREATE TABLE events (
  global_position INTEGER PRIMARY KEY,
  stream_key INTEGER NOT NULL REFERENCES streams,
  version INTEGER NOT NULL,
  event_type TEXT NOT NULL,
  schema_version INTEGER NOT NULL,
  payload TEXT NOT NULL,
  recorded_at INTEGER NOT NULL, -- microseconds since the Unix epoch, UTC
  command_id TEXT,
  correlation_id TEXT,
  causation_id TEXT,
  UNIQUE (stream_key, version));
INSERT INTO events VALUES(1,1,1,'AccountOpened',1,'{"owner":"Ada"}',1795473601354262,'01JCMD00000000000000000001',NULL,NULL);
INSERT INTO events VALUES(2,2,1,'AccountOpenedWithDeposit',1,'{"owner":"Bob","initial":5000}',1795473601354262,'01JCMD00000000000000000002',NULL,NULL);
INSERT INTO events VALUES(3,1,2,'MoneyDeposited',1,'{"amount":10000}',1795473601354262,'01JCMD00000000000000000003',NULL,NULL);
INSERT INTO events VALUES(4,2,2,'MoneyDeposited',1,'{"amount":1500}',1795473601354262,'01JCMD00000000000000000004',NULL,NULL);
INSERT INTO events VALUES(5,1,3,'FundsWithdrawn',1,'{"amount":2500}',1795473601354262,'01JCMD00000000000000000005',NULL,NULL);
INSERT INTO events VALUES(6,2,3,'FundsWithdrawn',1,'{"amount":500}',1795473601354262,'01JCMD00000000000000000006',NULL,NULL);
CREATE VIEW events_view AS
SELECT e.global_position,
       s.aggregate_type || '/' || s.aggregate_id AS stream_id,
       s.aggregate_type,
       s.aggregate_id,
       e.version,
       e.event_type,
       e.schema_version,
       e.payload,
       strftime('%Y-%m-%dT%H:%M:%S', e.recorded_at / 1000000, 'unixepoch')
         || printf('.%06dZ', e.recorded_at % 1000000) AS recorded_at,
       e.command_id,
       e.correlation_id,
       e.causation_id
FROM events e JOIN streams s ON s.stream_key = e.stream_key
ORDER BY e.global_position;
COMMIT;
