-- Audit entries are found by their subject's name (the audit page's object search: name) and by
-- kind and name together (a list's history: subject, "<kind>:<name>"): index the entries written
-- before those index entries existed. New entries are indexed as they are written.
INSERT OR IGNORE INTO resource_index (kind, name, key, value)
  SELECT kind, name, 'name', json_extract(data, '$.spec.name') FROM resources
  WHERE kind = 'audit_entry' AND COALESCE(json_extract(data, '$.spec.name'), '') != '';
INSERT OR IGNORE INTO resource_index (kind, name, key, value)
  SELECT kind, name, 'subject', json_extract(data, '$.spec.kind') || ':' || json_extract(data, '$.spec.name') FROM resources
  WHERE kind = 'audit_entry' AND COALESCE(json_extract(data, '$.spec.name'), '') != '' AND COALESCE(json_extract(data, '$.spec.kind'), '') != '';
