//! Which B-tree owns each page of a store (issue 19: which tables a pulled page's commit
//! rewrites): `cargo run -p field-core --example page_map -- DB USER PIN` prints one line
//! per page, `pageno name`, from SQLite's `dbstat` table (page 1 is `sqlite_schema`).
//! Pages it does not list are free or pointer-map pages. With a fourth argument, SQL, prints
//! that query's rows instead.

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let (db, user, pin, sql) = match args.as_slice() {
        [db, user, pin] => (db, user, pin, None),
        [db, user, pin, sql] => (db, user, pin, Some(sql)),
        _ => return Err("usage: page_map DB USER PIN [SQL]".into()),
    };
    let store = field_core::Store::unlock(
        std::path::Path::new(db),
        user,
        pin,
        field_core::OpenOptions::default(),
    )?;
    let conn = store.connection();
    if let Some(sql) = sql {
        // Any other question of the store: its rows, the columns separated by tabs.
        let mut stmt = conn.prepare(sql)?;
        let n = stmt.column_count();
        let mut rows = stmt.query([])?;
        while let Some(r) = rows.next()? {
            let cols: Vec<String> = (0..n)
                .map(|i| match r.get_ref(i) {
                    Ok(v) => format!("{v:?}"),
                    Err(e) => e.to_string(),
                })
                .collect();
            println!("{}", cols.join("\t"));
        }
        return Ok(());
    }
    let mut stmt = conn.prepare("SELECT pageno, name FROM dbstat ORDER BY pageno")?;
    let mut rows = stmt.query([])?;
    while let Some(r) = rows.next()? {
        let page: i64 = r.get(0)?;
        let name: String = r.get(1)?;
        println!("{page} {name}");
    }
    Ok(())
}
