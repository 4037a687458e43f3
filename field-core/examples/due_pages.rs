//! Issue 19 (tenth pass): the pages a bidan's desa (`53.04.05.2001` of the store bench's data)
//! reads cold from `due_facts`, from two smaller copies of it, and from `persons`:
//! `cargo run --release -p field-core --example due_pages -- DB USER PIN`, DB a **copy** of the
//! bench's cached store (`maria`, `246810`). The first run adds the copies as tables of the
//! store: `due_small` (person, id and supersedes as 16-byte blobs: what V8 could keep) and
//! `due_tiny` (also the date as a day number and no id: less than the read needs, the floor).
//! Each read runs on a freshly unlocked store (an empty page cache); the bytes are `rchar`.
fn rchar() -> u64 {
    std::fs::read_to_string("/proc/self/io")
        .ok()
        .and_then(|io| {
            io.lines()
                .find_map(|l| l.strip_prefix("rchar:").and_then(|v| v.trim().parse().ok()))
        })
        .unwrap_or(0)
}
fn main() -> Result<(), Box<dyn std::error::Error>> {
    let a: Vec<String> = std::env::args().skip(1).collect();
    let open = || {
        field_core::Store::unlock(
            std::path::Path::new(&a[0]),
            &a[1],
            &a[2],
            field_core::OpenOptions::default(),
        )
    };
    {
        let s = open()?;
        let c = s.connection();
        let has: bool = c.query_row(
            "SELECT EXISTS (SELECT 1 FROM sqlite_master WHERE name='due_small')",
            [],
            |r| r.get(0),
        )?;
        if !has {
            c.execute_batch("CREATE TABLE due_small (person BLOB NOT NULL, date TEXT NOT NULL, seq INTEGER NOT NULL, kind INTEGER NOT NULL, id BLOB NOT NULL, supersedes BLOB, body TEXT, PRIMARY KEY (person, date, seq)) WITHOUT ROWID;
              INSERT INTO due_small SELECT unhex(replace(person,'-','')), date, seq, kind, unhex(replace(id,'-','')), unhex(replace(supersedes,'-','')), body FROM due_facts ORDER BY person, date, seq;
              CREATE TABLE due_tiny (person BLOB NOT NULL, day INTEGER NOT NULL, seq INTEGER NOT NULL, kind INTEGER NOT NULL, body TEXT, PRIMARY KEY (person, day, seq)) WITHOUT ROWID;
              INSERT INTO due_tiny SELECT unhex(replace(person,'-','')), CAST(julianday(date) AS INTEGER), seq, kind, body FROM due_facts ORDER BY person, date, seq;")?;
        }
        let mut st = c.prepare("SELECT name, count(*), sum(pgsize), sum(ncell), sum(payload) FROM dbstat WHERE name IN ('due_facts','due_small','due_tiny','persons','persons_posyandu') GROUP BY name")?;
        let mut rows = st.query([])?;
        while let Some(r) = rows.next()? {
            println!(
                "size {}: {} pages {} bytes, {} cells, payload {}",
                r.get::<_, String>(0)?,
                r.get::<_, i64>(1)?,
                r.get::<_, i64>(2)?,
                r.get::<_, i64>(3)?,
                r.get::<_, i64>(4)?
            );
        }
    }
    let ids: Vec<String> = {
        let s = open()?;
        let mut st = s.connection().prepare("SELECT id FROM persons WHERE posyandu LIKE '53.04.05.2001.%' AND birth_date >= '2020-11-22' ORDER BY id")?;
        st.query_map([], |r| r.get(0))?.collect::<Result<_, _>>()?
    };
    println!("kept (under-five) persons of the desa: {}", ids.len());
    let text = ids
        .iter()
        .map(|i| format!("'{i}'"))
        .collect::<Vec<_>>()
        .join(",");
    let blob = ids
        .iter()
        .map(|i| format!("x'{}'", i.replace('-', "")))
        .collect::<Vec<_>>()
        .join(",");
    for (name, sql) in [
        ("due_facts", format!("SELECT person, id, kind, date, body, supersedes FROM due_facts WHERE person IN ({text}) ORDER BY person, date, seq")),
        ("due_small", format!("SELECT person, id, kind, date, body, supersedes FROM due_small WHERE person IN ({blob}) ORDER BY person, date, seq")),
        ("due_tiny", format!("SELECT person, seq, kind, day, body FROM due_tiny WHERE person IN ({blob}) ORDER BY person, day, seq")),
        ("persons (desa roster)", (1..=7).map(|k| format!("SELECT p.id, p.posyandu, p.household, p.name, p.sex, p.birth_date, p.birth_date_estimated, p.nik, p.mother, p.status, p.values_json FROM persons p WHERE p.posyandu = '53.04.05.2001.P{k:02}' ORDER BY p.birth_date DESC")).collect::<Vec<_>>().join(";")),
    ] {
        let s = open()?;
        let c = s.connection();
        // Warm what every read needs (schema), then count.
        let _: i64 = c.query_row("SELECT count(*) FROM sqlite_master", [], |r| r.get(0))?;
        let before = rchar();
        let mut n = 0;
        for q in sql.split(';') {
            let mut st = c.prepare(q)?;
            let mut rows = st.query([])?;
            while let Some(_r) = rows.next()? { n += 1; }
        }
        let read = rchar() - before;
        println!("cold {name}: {n} rows, {:.2} MiB read ({} pages of 8 KiB)", read as f64 / 1048576.0, read / 8192);
    }
    Ok(())
}
