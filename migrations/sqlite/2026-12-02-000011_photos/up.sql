-- Photo bytes, content-addressed: the SHA-256 of the stored (re-encoded) bytes is the key. Written in
-- the transaction of the photo row that names them, so a crash leaves no row pointing at nothing.
CREATE TABLE photo_blobs (
    sha256 TEXT PRIMARY KEY NOT NULL,
    bytes BLOB NOT NULL,
    size BIGINT NOT NULL,
    created_at TIMESTAMP NOT NULL
);
-- Before and after photos of a session. Withdrawn photos are kept and hidden.
CREATE TABLE photos (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    session_id INTEGER NOT NULL REFERENCES sessions (id),
    patient_id INTEGER NOT NULL REFERENCES patients (id),
    kind TEXT NOT NULL CHECK (kind IN ('before', 'after')),
    sha256 TEXT NOT NULL,
    thumbnail_sha256 TEXT NOT NULL,
    width INTEGER NOT NULL CHECK (width > 0),
    height INTEGER NOT NULL CHECK (height > 0),
    uploaded_by INTEGER NOT NULL REFERENCES users (id),
    uploaded_at TIMESTAMP NOT NULL,
    withdrawn_at TIMESTAMP,
    withdrawn_by INTEGER REFERENCES users (id),
    withdraw_reason TEXT,
    CHECK ((withdrawn_at IS NULL) = (withdraw_reason IS NULL))
);
CREATE INDEX photos_patient ON photos (patient_id, id);
CREATE INDEX photos_session ON photos (session_id);
