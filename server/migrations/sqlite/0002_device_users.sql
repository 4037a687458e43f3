-- 0002: who has logged in on which device. A change's author may be any of them (a shared
-- tablet carries the changes of every kader who unlocked it); push checks role and scope
-- against the author.
CREATE TABLE device_users (
    device_id      TEXT NOT NULL REFERENCES devices (id),
    user_id        TEXT NOT NULL REFERENCES users (id),
    first_login_at BIGINT NOT NULL,
    last_login_at  BIGINT NOT NULL,
    PRIMARY KEY (device_id, user_id)
);
-- Logins before this migration are known from their sessions.
INSERT INTO device_users (device_id, user_id, first_login_at, last_login_at)
SELECT device_id, user_id, MIN(created_at), MAX(created_at) FROM sessions
GROUP BY device_id, user_id;
