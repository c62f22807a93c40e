//! The embedded store: SQLite (bundled), WAL, one transaction per batch.

use crate::record::iso;
use crate::{MessageRow, PutOutcome, Record, Sighting, Stats, Store, StoreError, Verdicts};
use rusqlite::{Connection, OptionalExtension, params};
use spamtrace_mail::Analysis;
use std::path::{Path, PathBuf};

/// Schema migrations, applied in order; `PRAGMA user_version` is the number applied.
const MIGRATIONS: &[&str] = &[
    // 1: messages, their blobs, sightings, URLs, stage state.
    r#"
    CREATE TABLE messages (
        id INTEGER PRIMARY KEY,
        sha256 TEXT NOT NULL UNIQUE,
        size INTEGER NOT NULL,
        received_at INTEGER NOT NULL,
        time_source TEXT NOT NULL,
        source TEXT NOT NULL,
        message_id TEXT, subject TEXT, from_addr TEXT, from_domain TEXT,
        label TEXT, problem TEXT,
        score REAL, verdict TEXT, kind TEXT, campaign TEXT, botnet TEXT,
        origin_ip TEXT, origin_net TEXT, url_domain TEXT,
        envelope_from TEXT, envelope_to TEXT, dialect TEXT,
        verdicts TEXT
    );
    CREATE INDEX messages_received ON messages(received_at);
    CREATE INDEX messages_campaign ON messages(campaign);
    CREATE INDEX messages_botnet ON messages(botnet);
    CREATE TABLE blobs (
        id INTEGER PRIMARY KEY REFERENCES messages(id),
        analysis BLOB NOT NULL,
        raw BLOB NOT NULL
    );
    CREATE TABLE sightings (
        id INTEGER PRIMARY KEY,
        msg INTEGER NOT NULL REFERENCES messages(id),
        seen_at INTEGER NOT NULL,
        time_source TEXT NOT NULL,
        source TEXT NOT NULL,
        pos INTEGER,
        recipient TEXT,
        smtp TEXT,
        is_spam INTEGER NOT NULL,
        kind TEXT, campaign TEXT, botnet TEXT, origin_net TEXT, url_domain TEXT
    );
    CREATE UNIQUE INDEX sightings_source_pos ON sightings(source, pos) WHERE pos IS NOT NULL;
    CREATE INDEX sightings_seen ON sightings(seen_at);
    CREATE INDEX sightings_msg ON sightings(msg);
    CREATE TABLE urls (
        msg INTEGER NOT NULL REFERENCES messages(id),
        url TEXT NOT NULL, host TEXT NOT NULL, domain TEXT
    );
    CREATE INDEX urls_msg ON urls(msg);
    CREATE INDEX urls_domain ON urls(domain);
    CREATE TABLE state (key TEXT PRIMARY KEY, value BLOB NOT NULL);
    "#,
    // 2: spam sightings by time, covering the series keys, for volume queries.
    r#"
    CREATE INDEX sightings_spam_seen ON sightings(is_spam, seen_at, botnet, campaign, kind, url_domain, origin_net);
    "#,
    // 3: hourly spam counts per series and week (see rollup.rs), kept with
    // every write; filled from the sightings with migration 5.
    r#"
    CREATE TABLE volume_week (
        dim INTEGER NOT NULL,
        week INTEGER NOT NULL,
        key TEXT NOT NULL,
        counts BLOB NOT NULL
    );
    CREATE UNIQUE INDEX volume_week_key ON volume_week(dim, week, key);
    "#,
    // 4: messages by URL domain (which campaign a storefront domain serves).
    r#"
    CREATE INDEX IF NOT EXISTS messages_url_domain ON messages(url_domain, campaign);
    "#,
    // 5: each series' total, so views can skip the many tiny series (a
    // botnet's million sender networks) without reading them; the hourly
    // counts by key. Both tables are (re)computed from the sightings here.
    r#"
    CREATE TABLE volume_key (
        dim INTEGER NOT NULL,
        key TEXT NOT NULL,
        total INTEGER NOT NULL,
        PRIMARY KEY (dim, key)
    ) WITHOUT ROWID;
    CREATE INDEX volume_key_total ON volume_key(dim, total);
    CREATE INDEX volume_week_by_key ON volume_week(dim, key, week);
    "#,
];

/// How hard a commit tries to reach the disk.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Durability {
    /// Survives a crash of spamtrace (WAL, `synchronous=NORMAL`): for archives,
    /// which can be re-read.
    Process,
    /// Survives a crash of the machine (`synchronous=FULL`, fsync per commit):
    /// for the trap, which acknowledged mail that exists nowhere else.
    Machine,
}

/// The embedded SQLite store in a directory (`store.sqlite` inside it).
pub struct SqliteStore {
    conn: Connection,
    dir: PathBuf,
}

impl std::fmt::Debug for SqliteStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SqliteStore")
            .field("dir", &self.dir)
            .finish()
    }
}

fn origin_net(ip: Option<&str>) -> Option<String> {
    let ip: std::net::IpAddr = ip?.parse().ok()?;
    Some(match ip {
        std::net::IpAddr::V4(v4) => {
            let o = v4.octets();
            format!("{}.{}.{}.0/24", o[0], o[1], o[2])
        }
        std::net::IpAddr::V6(v6) => {
            let s = v6.segments();
            format!("{:x}:{:x}:{:x}::/48", s[0], s[1], s[2])
        }
    })
}

/// Settings of a connection that views read through: a larger page cache
/// and memory-mapped reads (no system call per page of a long scan).
pub(crate) fn read_tuning(conn: &Connection) -> Result<(), StoreError> {
    conn.pragma_update(None, "cache_size", -65536)?;
    // A pragma that returns a row: read it, or rusqlite calls it an error.
    let _: i64 = conn.query_row("PRAGMA mmap_size = 1073741824", [], |r| r.get(0))?;
    Ok(())
}

fn is_spam(row: &MessageRow) -> bool {
    match row.label.as_deref() {
        Some(l) => l == "spam",
        None => row.verdict.as_deref() != Some("ham"),
    }
}

/// Sources without a stable position (stdin, SMTP) get a sighting every time.
fn position(s: &Sighting) -> Option<i64> {
    if s.source == "stdin" || s.source.starts_with("smtp://") {
        None
    } else {
        Some(s.offset.unwrap_or(0) as i64)
    }
}

impl SqliteStore {
    /// Open (creating if needed) the store in `dir`, for archive ingest.
    pub fn open(dir: &Path) -> Result<SqliteStore, StoreError> {
        Self::open_with(dir, Durability::Process)
    }

    /// Open with an explicit durability.
    pub fn open_with(dir: &Path, durability: Durability) -> Result<SqliteStore, StoreError> {
        std::fs::create_dir_all(dir).map_err(|source| StoreError::Io {
            path: dir.display().to_string(),
            source,
        })?;
        let conn = Connection::open(dir.join("store.sqlite"))?;
        conn.busy_timeout(std::time::Duration::from_secs(30))?;
        conn.pragma_update(None, "journal_mode", "WAL")?;
        conn.pragma_update(
            None,
            "synchronous",
            match durability {
                Durability::Process => "NORMAL",
                Durability::Machine => "FULL",
            },
        )?;
        conn.pragma_update(None, "foreign_keys", "OFF")?;
        conn.pragma_update(None, "cache_size", -65536)?;
        let mut store = SqliteStore {
            conn,
            dir: dir.to_path_buf(),
        };
        store.migrate()?;
        Ok(store)
    }

    /// Open read-only (views; a second reader beside a running ingest or trap).
    pub fn open_readonly(dir: &Path) -> Result<SqliteStore, StoreError> {
        let path = dir.join("store.sqlite");
        if !path.exists() {
            return Err(StoreError::Io {
                path: path.display().to_string(),
                source: std::io::Error::new(
                    std::io::ErrorKind::NotFound,
                    "no store here: run `spamtrace ingest` or `spamtrace demo` first, or pass --data",
                ),
            });
        }
        let mut conn =
            Connection::open_with_flags(&path, rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY)?;
        conn.busy_timeout(std::time::Duration::from_secs(30))?;
        read_tuning(&conn)?;
        let version: i64 = conn.pragma_query_value(None, "user_version", |r| r.get(0))?;
        if version < MIGRATIONS.len() as i64 {
            // A store written by an older spamtrace: upgrade it once (the
            // views rely on the newer tables), then read it as asked.
            drop(conn);
            drop(SqliteStore::open(dir)?);
            conn = Connection::open_with_flags(&path, rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY)?;
            conn.busy_timeout(std::time::Duration::from_secs(30))?;
            read_tuning(&conn)?;
        }
        Ok(SqliteStore {
            conn,
            dir: dir.to_path_buf(),
        })
    }

    /// The store directory.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// The underlying connection, for views with their own queries.
    pub fn connection(&self) -> &Connection {
        &self.conn
    }

    pub(crate) fn connection_mut(&mut self) -> &mut Connection {
        &mut self.conn
    }

    fn migrate(&mut self) -> Result<(), StoreError> {
        let version: i64 = self
            .conn
            .pragma_query_value(None, "user_version", |r| r.get(0))?;
        let supported = MIGRATIONS.len() as i64;
        if version > supported {
            return Err(StoreError::TooNew {
                found: version,
                supported,
            });
        }
        for (i, m) in MIGRATIONS.iter().enumerate().skip(version as usize) {
            let tx = self.conn.transaction()?;
            tx.execute_batch(m)?;
            if i + 1 == 5 {
                // The hourly counts and totals of the sightings stored before them.
                crate::rollup::rebuild(&tx)?;
            }
            tx.pragma_update(None, "user_version", (i + 1) as i64)?;
            tx.commit()?;
        }
        Ok(())
    }

    fn row_from(r: &rusqlite::Row<'_>) -> rusqlite::Result<MessageRow> {
        let ts: i64 = r.get("received_at")?;
        let verdicts: Option<String> = r.get("verdicts")?;
        let envelope_to: Option<String> = r.get("envelope_to")?;
        Ok(MessageRow {
            sha256: r.get("sha256")?,
            source: r.get("source")?,
            received_at: iso(ts),
            received_ts: ts,
            time_source: r.get("time_source")?,
            message_id: r.get("message_id")?,
            subject: r.get("subject")?,
            from: r.get("from_addr")?,
            label: r.get("label")?,
            size: r.get::<_, i64>("size")? as u64,
            problem: r.get("problem")?,
            score: r.get::<_, Option<f64>>("score")?.map(|s| s as f32),
            verdict: r.get("verdict")?,
            kind: r.get("kind")?,
            campaign: r.get("campaign")?,
            botnet: r.get("botnet")?,
            origin_ip: r.get("origin_ip")?,
            sightings: r.get::<_, i64>("n_sightings")? as u64,
            envelope_from: r.get("envelope_from")?,
            envelope_to: envelope_to
                .and_then(|s| serde_json::from_str(&s).ok())
                .unwrap_or_default(),
            dialect: r.get("dialect")?,
            verdicts: verdicts
                .and_then(|s| serde_json::from_str::<Verdicts>(&s).ok())
                .unwrap_or_default(),
        })
    }

    const ROW_SELECT: &'static str = "SELECT m.*, (SELECT count(*) FROM sightings s WHERE s.msg = m.id) AS n_sightings FROM messages m";

    /// Update the verdicts of a stored message (re-classification, renamed families).
    pub fn update_verdicts(&mut self, sha256: &str, v: &Verdicts) -> Result<(), StoreError> {
        let tx = self.conn.transaction()?;
        let id: Option<i64> = tx
            .query_row("SELECT id FROM messages WHERE sha256 = ?1", [sha256], |r| {
                r.get(0)
            })
            .optional()?;
        if let Some(id) = id {
            // The hourly counts move from the old keys to the new ones.
            let mut hourly = crate::rollup::HourlyCounts::default();
            {
                let mut st = tx.prepare(
                    "SELECT seen_at, botnet, campaign, kind, url_domain, origin_net FROM sightings WHERE msg = ?1 AND is_spam = 1",
                )?;
                let mut rows = st.query([id])?;
                while let Some(r) = rows.next()? {
                    let t: i64 = r.get(0)?;
                    let old: [Option<String>; 5] =
                        [r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?, r.get(5)?];
                    hourly.add(t, old.each_ref().map(|k| k.as_deref()), -1);
                    let new = [&v.botnet, &v.campaign, &v.kind, &old[3], &old[4]];
                    hourly.add(t, new.map(|k| k.as_deref()), 1);
                }
            }
            hourly.write(&tx)?;
            tx.execute(
                "UPDATE messages SET score=?2, verdict=?3, kind=?4, campaign=?5, botnet=?6, verdicts=?7 WHERE id=?1",
                params![id, v.score.map(|s| s as f64), v.verdict, v.kind, v.campaign, v.botnet, serde_json::to_string(v).ok()],
            )?;
            tx.execute(
                "UPDATE sightings SET kind=?2, campaign=?3, botnet=?4 WHERE msg=?1",
                params![id, v.kind, v.campaign, v.botnet],
            )?;
        }
        tx.commit()?;
        Ok(())
    }

    /// The campaign most of the messages linking to registered domain
    /// `domain` belong to, if any of them is in a campaign.
    pub fn campaign_of_domain(&self, domain: &str) -> Result<Option<String>, StoreError> {
        let mut st = self.conn.prepare_cached(
            "SELECT campaign FROM messages WHERE url_domain = ?1 AND campaign IS NOT NULL
             GROUP BY campaign ORDER BY count(*) DESC, campaign LIMIT 1",
        )?;
        Ok(st.query_row([domain], |r| r.get(0)).optional()?)
    }

    fn top(&self, sql: &str) -> Result<Vec<(String, u64)>, StoreError> {
        let mut st = self.conn.prepare(sql)?;
        let rows = st.query_map([], |r| {
            Ok((
                r.get::<_, Option<String>>(0)?
                    .unwrap_or_else(|| "(none)".into()),
                r.get::<_, i64>(1)? as u64,
            ))
        })?;
        Ok(rows.collect::<Result<_, _>>()?)
    }
}

impl Store for SqliteStore {
    fn put_batch(
        &mut self,
        records: &[Record],
        state: &[(&str, Vec<u8>)],
    ) -> Result<Vec<PutOutcome>, StoreError> {
        let tx = self.conn.transaction()?;
        let mut outcomes = Vec::with_capacity(records.len());
        {
            let mut ins_msg = tx.prepare_cached(
                "INSERT INTO messages (sha256, size, received_at, time_source, source, message_id, subject, from_addr, from_domain, label, problem, score, verdict, kind, campaign, botnet, origin_ip, origin_net, url_domain, envelope_from, envelope_to, dialect, verdicts)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17, ?18, ?19, ?20, ?21, ?22, ?23)
                 ON CONFLICT(sha256) DO NOTHING RETURNING id",
            )?;
            let mut find = tx.prepare_cached(
                "SELECT id, label, verdict, kind, campaign, botnet, origin_net, url_domain FROM messages WHERE sha256 = ?1",
            )?;
            let mut set_label = tx
                .prepare_cached("UPDATE messages SET label = ?2 WHERE id = ?1 AND label IS NULL")?;
            let mut ins_blob =
                tx.prepare_cached("INSERT INTO blobs (id, analysis, raw) VALUES (?1, ?2, ?3)")?;
            let mut ins_url = tx.prepare_cached(
                "INSERT INTO urls (msg, url, host, domain) VALUES (?1, ?2, ?3, ?4)",
            )?;
            let mut ins_sight = tx.prepare_cached(
                // A sighting whose source knows no time (a known message found
                // again in a plain file) takes the stored message's receive
                // time rather than the clock of the re-read, which would put
                // old mail into today's volume.
                "INSERT OR IGNORE INTO sightings (msg, seen_at, time_source, source, pos, recipient, smtp, is_spam, kind, campaign, botnet, origin_net, url_domain)
                 SELECT ?1,
                        CASE WHEN ?3 = 'ingest' THEN m.received_at ELSE ?2 END,
                        CASE WHEN ?3 = 'ingest' THEN m.time_source ELSE ?3 END,
                        ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13
                 FROM messages m WHERE m.id = ?1
                 RETURNING seen_at",
            )?;
            let mut hourly = crate::rollup::HourlyCounts::default();
            for rec in records {
                let row = &rec.row;
                let net = origin_net(row.origin_ip.as_deref());
                let url_domain = rec.urls.iter().find_map(|u| u.2.clone());
                let from_domain = row
                    .from
                    .as_deref()
                    .and_then(|a| a.rsplit_once('@'))
                    .map(|(_, d)| d.to_ascii_lowercase());
                let new_id: Option<i64> = if rec.raw_zstd.is_empty() {
                    None // a known message: the pipeline skipped its analysis
                } else {
                    ins_msg
                        .query_row(
                            params![
                                rec.sha256,
                                rec.size as i64,
                                row.received_ts,
                                row.time_source,
                                row.source,
                                row.message_id,
                                row.subject,
                                row.from,
                                from_domain,
                                row.label,
                                row.problem,
                                row.score.map(|s| s as f64),
                                row.verdict,
                                row.kind,
                                row.campaign,
                                row.botnet,
                                row.origin_ip,
                                net,
                                url_domain,
                                row.envelope_from,
                                (!row.envelope_to.is_empty())
                                    .then(|| serde_json::to_string(&row.envelope_to)
                                        .unwrap_or_default()),
                                row.dialect,
                                serde_json::to_string(&row.verdicts).ok(),
                            ],
                            |r| r.get(0),
                        )
                        .optional()?
                };
                let (id, outcome, spam, kind, campaign, botnet, net, url_domain) = match new_id {
                    Some(id) => {
                        ins_blob.execute(params![id, rec.analysis_zstd, rec.raw_zstd])?;
                        for (url, host, domain) in &rec.urls {
                            ins_url.execute(params![id, url, host, domain])?;
                        }
                        (
                            id,
                            PutOutcome::New,
                            is_spam(row),
                            row.kind.clone(),
                            row.campaign.clone(),
                            row.botnet.clone(),
                            net,
                            url_domain,
                        )
                    }
                    None => {
                        let found = find
                            .query_row([&rec.sha256], |r| {
                                let stored = MessageRow {
                                    label: r.get(1)?,
                                    verdict: r.get(2)?,
                                    ..Default::default()
                                };
                                Ok((
                                    r.get::<_, i64>(0)?,
                                    is_spam(&stored),
                                    r.get::<_, Option<String>>(3)?,
                                    r.get::<_, Option<String>>(4)?,
                                    r.get::<_, Option<String>>(5)?,
                                    r.get::<_, Option<String>>(6)?,
                                    r.get::<_, Option<String>>(7)?,
                                ))
                            })
                            .optional()?;
                        match found {
                            Some((id, spam, k, c, b, n, u)) => {
                                // A label learnt later (a TREC index over an archive
                                // read before) fills in a missing one.
                                if let Some(l) = &row.label {
                                    set_label.execute(params![id, l])?;
                                }
                                (
                                    id,
                                    PutOutcome::Duplicate,
                                    spam || row.label.as_deref() == Some("spam"),
                                    k,
                                    c,
                                    b,
                                    n,
                                    u,
                                )
                            }
                            None => {
                                return Err(StoreError::Corrupt(format!(
                                    "message {} was announced as stored but is not in the store",
                                    rec.sha256
                                )));
                            }
                        }
                    }
                };
                let s = &rec.sighting;
                let seen_at: Option<i64> = ins_sight
                    .query_row(
                        params![
                            id,
                            s.seen_at,
                            s.time_source,
                            s.source,
                            position(s),
                            s.recipient,
                            s.smtp.as_ref().and_then(|x| serde_json::to_string(x).ok()),
                            spam as i64,
                            kind,
                            campaign,
                            botnet,
                            net,
                            url_domain,
                        ],
                        |r| r.get(0),
                    )
                    .optional()?;
                if let (Some(t), true) = (seen_at, spam) {
                    hourly.add(
                        t,
                        [&botnet, &campaign, &kind, &url_domain, &net].map(|k| k.as_deref()),
                        1,
                    );
                }
                outcomes.push(match (outcome, seen_at) {
                    (PutOutcome::Duplicate, None) => PutOutcome::AlreadySeen,
                    (o, _) => o,
                });
            }
            hourly.write(&tx)?;
            for (key, value) in state {
                tx.execute(
                    "INSERT INTO state (key, value) VALUES (?1, ?2) ON CONFLICT(key) DO UPDATE SET value = excluded.value",
                    params![key, value],
                )?;
            }
        }
        tx.commit()?;
        Ok(outcomes)
    }

    fn contains(&self, sha256: &str) -> Result<bool, StoreError> {
        let mut st = self
            .conn
            .prepare_cached("SELECT 1 FROM messages WHERE sha256 = ?1")?;
        Ok(st.exists([sha256])?)
    }

    fn resolve(&self, prefix: &str) -> Result<Option<String>, StoreError> {
        let p = prefix.trim().to_ascii_lowercase();
        if p.is_empty() || !p.bytes().all(|c| c.is_ascii_hexdigit()) {
            return Ok(None);
        }
        let mut st = self.conn.prepare(
            "SELECT sha256 FROM messages WHERE sha256 >= ?1 AND sha256 < ?1 || 'g' LIMIT 2",
        )?;
        let found: Vec<String> = st
            .query_map([&p], |r| r.get(0))?
            .collect::<Result<_, _>>()?;
        match found.len() {
            0 => Ok(None),
            1 => Ok(found.into_iter().next()),
            _ => Err(StoreError::Ambiguous(p)),
        }
    }

    fn message(&self, sha256: &str) -> Result<Option<MessageRow>, StoreError> {
        let sql = format!("{} WHERE m.sha256 = ?1", Self::ROW_SELECT);
        Ok(self
            .conn
            .query_row(&sql, [sha256], Self::row_from)
            .optional()?)
    }

    fn raw(&self, sha256: &str) -> Result<Option<Vec<u8>>, StoreError> {
        let blob: Option<Vec<u8>> = self
            .conn
            .query_row(
                "SELECT b.raw FROM blobs b JOIN messages m ON m.id = b.id WHERE m.sha256 = ?1",
                [sha256],
                |r| r.get(0),
            )
            .optional()?;
        blob.map(|b| {
            zstd::decode_all(&b[..])
                .map_err(|e| StoreError::Corrupt(format!("raw message {sha256}: {e}")))
        })
        .transpose()
    }

    fn analysis(&self, sha256: &str) -> Result<Option<Analysis>, StoreError> {
        let blob: Option<Vec<u8>> = self
            .conn
            .query_row(
                "SELECT b.analysis FROM blobs b JOIN messages m ON m.id = b.id WHERE m.sha256 = ?1",
                [sha256],
                |r| r.get(0),
            )
            .optional()?;
        let Some(blob) = blob else { return Ok(None) };
        let json = zstd::decode_all(&blob[..])
            .map_err(|e| StoreError::Corrupt(format!("analysis {sha256}: {e}")))?;
        serde_json::from_slice(&json)
            .map(Some)
            .map_err(|e| StoreError::Corrupt(format!("analysis {sha256}: {e}")))
    }

    fn sightings(&self, sha256: &str) -> Result<Vec<Sighting>, StoreError> {
        let mut st = self.conn.prepare(
            "SELECT s.seen_at, s.time_source, s.source, s.pos, s.recipient, s.smtp FROM sightings s JOIN messages m ON m.id = s.msg WHERE m.sha256 = ?1 ORDER BY s.seen_at, s.id",
        )?;
        let rows = st.query_map([sha256], |r| {
            let smtp: Option<String> = r.get(5)?;
            Ok(Sighting {
                seen_at: r.get(0)?,
                time_source: r.get(1)?,
                source: r.get(2)?,
                offset: r.get::<_, Option<i64>>(3)?.map(|p| p as u64),
                recipient: r.get(4)?,
                smtp: smtp.and_then(|s| serde_json::from_str(&s).ok()),
            })
        })?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    fn for_each_message(&self, f: &mut dyn FnMut(MessageRow) -> bool) -> Result<(), StoreError> {
        let sql = format!("{} ORDER BY m.id", Self::ROW_SELECT);
        let mut st = self.conn.prepare(&sql)?;
        let mut rows = st.query([])?;
        while let Some(r) = rows.next()? {
            if !f(Self::row_from(r)?) {
                break;
            }
        }
        Ok(())
    }

    fn stats(&self) -> Result<Stats, StoreError> {
        let one = |sql: &str| -> Result<i64, StoreError> {
            Ok(self
                .conn
                .query_row(sql, [], |r| r.get::<_, Option<i64>>(0))?
                .unwrap_or(0))
        };
        let (first, last): (Option<i64>, Option<i64>) = self.conn.query_row(
            "SELECT min(received_at), max(received_at) FROM messages",
            [],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )?;
        Ok(Stats {
            messages: one("SELECT count(*) FROM messages")? as u64,
            sightings: one("SELECT count(*) FROM sightings")? as u64,
            failed: self.top("SELECT problem, count(*) FROM messages WHERE problem IS NOT NULL GROUP BY problem ORDER BY 2 DESC LIMIT 20")?,
            labels: self.top("SELECT coalesce(label, 'unlabelled'), count(*) FROM messages GROUP BY 1 ORDER BY 2 DESC")?,
            verdicts: self.top("SELECT coalesce(verdict, 'none'), count(*) FROM messages GROUP BY 1 ORDER BY 2 DESC")?,
            kinds: self.top("SELECT kind, count(*) FROM messages WHERE kind IS NOT NULL GROUP BY 1 ORDER BY 2 DESC")?,
            first_seen: first.and_then(iso),
            last_seen: last.and_then(iso),
            top_sender_domains: self.top("SELECT from_domain, count(*) FROM messages WHERE from_domain IS NOT NULL GROUP BY 1 ORDER BY 2 DESC, 1 LIMIT 10")?,
            top_url_domains: self.top("SELECT domain, count(DISTINCT msg) FROM urls WHERE domain IS NOT NULL GROUP BY 1 ORDER BY 2 DESC, 1 LIMIT 10")?,
            raw_bytes: one("SELECT sum(size) FROM messages")? as u64,
            stored_bytes: one("SELECT sum(length(raw)) FROM blobs")? as u64,
        })
    }

    fn load_state(&self, key: &str) -> Result<Option<Vec<u8>>, StoreError> {
        Ok(self
            .conn
            .query_row("SELECT value FROM state WHERE key = ?1", [key], |r| {
                r.get(0)
            })
            .optional()?)
    }

    fn save_state(&mut self, key: &str, value: &[u8]) -> Result<(), StoreError> {
        self.conn.execute(
            "INSERT INTO state (key, value) VALUES (?1, ?2) ON CONFLICT(key) DO UPDATE SET value = excluded.value",
            params![key, value],
        )?;
        Ok(())
    }
}
