-- 0010: the district's KFA product codes (issue 15, docs/fhir.md "KFA product codes"):
-- per vaccine series of health_rules::immunisation::KFA_PRODUCTS, the code of the product
-- the dinas distributes, set by a dinas_admin on the dashboard's Administrasi page. The
-- FHIR mapping gives it to a dose whose body carries no kfa_code of its own. A series
-- without a row has no code (nothing is invented).
CREATE TABLE vaccine_kfa (
    series     TEXT PRIMARY KEY,
    code       TEXT NOT NULL,
    updated_at INTEGER NOT NULL,
    updated_by TEXT NOT NULL
);
