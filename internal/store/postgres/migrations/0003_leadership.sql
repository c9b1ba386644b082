CREATE TABLE leadership (
  name TEXT PRIMARY KEY,
  epoch BIGINT NOT NULL,
  holder TEXT NOT NULL,
  since BIGINT NOT NULL
);
