-- Audit entries are found by the name of their subject (the audit page's "object" search): index
-- the entries written before that index existed. New entries are indexed as they are written.
INSERT OR IGNORE INTO resource_index (kind, name, key, value)
  SELECT kind, name, 'name', json_extract(data, '$.spec.name') FROM resources
  WHERE kind = 'audit_entry' AND COALESCE(json_extract(data, '$.spec.name'), '') != '';
