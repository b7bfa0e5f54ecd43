//! The pages served for people (`/navi`, `/app`) and what they load: scripts, styles and the
//! web-font slices, all from this server. Their behaviour in a browser is tested by
//! `tests/e2e/navi.mjs` and `tests/e2e/app.mjs`.

mod common;

use std::io::Read;

use common::TestServer;
use serde_json::Value;

#[tokio::test]
async fn the_pages_are_self_contained_and_strict() {
    let server = TestServer::start().await;
    for page in ["/navi", "/app"] {
        assert_page_is_strict(&server, page).await;
    }
    for missing in ["/web/navi/nothing.js", "/web/../Cargo.toml", "/web/"] {
        assert_eq!(server.get(missing).await.status(), 404, "{missing}");
    }
    let config: Value = server.get("/app/config.json").await.json().await.unwrap();
    assert_eq!(
        config["sessionIdleMinutes"], 15,
        "the work screens warn before the server's idle limit"
    );
    server.stop().await;
}

#[tokio::test]
async fn every_file_of_the_pages_is_served() {
    let server = TestServer::start().await;
    let mut pending = vec![std::path::PathBuf::from("web")];
    let mut files = 0;
    while let Some(dir) = pending.pop() {
        for entry in std::fs::read_dir(&dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                // GraphiQL's build inputs are not served: only its bundle.
                if !path.ends_with("node_modules") && !path.ends_with("src") {
                    pending.push(path);
                }
                continue;
            }
            let name = path.to_string_lossy().replace('\\', "/");
            if name.ends_with(".js") || name.ends_with(".css") {
                let served = server.get(&format!("/{name}")).await;
                assert_eq!(served.status(), 200, "{name} is served");
                assert_eq!(
                    served.text().await.unwrap(),
                    std::fs::read_to_string(&path).unwrap(),
                    "{name} as it is in the repository"
                );
                files += 1;
            }
        }
    }
    assert!(files >= 10, "{files} files");
    server.stop().await;
}

/// A page: served with a strict policy, no inline code, and every script and style it names
/// served with its type.
async fn assert_page_is_strict(server: &TestServer, path: &str) {
    let response = server.get(path).await;
    assert_eq!(response.status(), 200);
    let csp = response.headers()["content-security-policy"]
        .to_str()
        .unwrap()
        .to_owned();
    for rule in [
        "default-src 'none'",
        "script-src 'self'",
        "font-src 'self'",
        "frame-ancestors 'none'",
    ] {
        assert!(csp.contains(rule), "{rule} in {csp}");
    }
    assert!(!csp.contains("unsafe-inline"));
    let page = response.text().await.unwrap();
    assert!(page.contains("<html lang=\"ja\">"), "{path}");
    for needle in ["src=\"http", "href=\"http", "<script>", "style=\""] {
        assert!(!page.contains(needle), "{path} holds {needle}");
    }
    let assets: Vec<&str> = page
        .split(['"', '\''])
        .filter(|part| part.starts_with("/web/"))
        .collect();
    assert!(assets.len() >= 3, "{path} names its assets: {assets:?}");
    for asset in assets {
        let served = server.get(asset).await;
        assert_eq!(served.status(), 200, "{asset}");
        let kind = if asset.ends_with(".js") {
            "text/javascript"
        } else {
            "text/css"
        };
        assert!(
            served.headers()["content-type"]
                .to_str()
                .unwrap()
                .starts_with(kind),
            "{asset}"
        );
        // Scripts import their modules from this server only.
        let text = served.text().await.unwrap();
        for import in text.lines().filter(|l| l.starts_with("import ")) {
            assert!(import.contains("from '/web/"), "{asset}: {import}");
            let module = import.split('\'').nth(1).unwrap();
            assert_eq!(server.get(module).await.status(), 200, "{module}");
        }
    }
}

#[tokio::test]
async fn the_web_font_comes_in_slices_compressed_and_kept_for_a_year() {
    let server = TestServer::start().await;
    let css = server
        .get("/assets/fonts/fonts.css")
        .await
        .text()
        .await
        .unwrap();
    // Two families share the files: the pages' (Latin too) and the JP one (Japanese only,
    // for code editors, whose Latin stays monospace).
    let (pages, japanese) = css
        .split_once("font-family: \"vsys Gothic Web JP\"")
        .expect("the JP family");
    let urls = |text: &str| -> Vec<String> {
        text.split("url(\"")
            .skip(1)
            .map(|rest| rest.split('"').next().unwrap().to_owned())
            .collect()
    };
    let files = urls(pages);
    assert_eq!(files.len(), 4, "{css}");
    assert!(css.contains("unicode-range"));
    // The common kanji are declared last: a browser tries them before the rare slices.
    assert!(files.last().unwrap().contains("kanji-common"));
    assert!(urls(japanese).last().unwrap().contains("kanji-common"));
    assert!(
        !japanese.contains("U+0020"),
        "the JP family leaves Latin to the editor's font"
    );
    for file in &files {
        let gzipped = server
            .client
            .get(server.url(file))
            .header("accept-encoding", "gzip, br")
            .send()
            .await
            .unwrap();
        assert_eq!(gzipped.status(), 200, "{file}");
        assert_eq!(gzipped.headers()["content-encoding"], "gzip");
        assert_eq!(gzipped.headers()["content-type"], "font/ttf");
        assert!(
            gzipped.headers()["cache-control"]
                .to_str()
                .unwrap()
                .contains("immutable")
        );
        let compressed = gzipped.bytes().await.unwrap();
        let mut font = Vec::new();
        flate2::read::GzDecoder::new(&compressed[..])
            .read_to_end(&mut font)
            .unwrap();
        assert_eq!(&font[..4], &[0, 1, 0, 0], "{file} is a TrueType font");
        let plain = server.get(file).await;
        assert!(plain.headers().get("content-encoding").is_none());
        assert_eq!(plain.bytes().await.unwrap().as_ref(), font.as_slice());
    }
    let licence = server.get("/assets/fonts/LICENSE.txt").await;
    assert_eq!(licence.status(), 200);
    assert!(
        licence
            .text()
            .await
            .unwrap()
            .contains("IPA Font License Agreement")
    );
    assert_eq!(
        server.get("/assets/fonts/ipaexg.ttf").await.status(),
        404,
        "the original is not served under its name: the slices are renamed"
    );
    server.stop().await;
}

#[tokio::test]
async fn the_map_shows_only_where_tiles_are_configured() {
    let server = TestServer::start().await;
    let config: Value = server.get("/navi/config.json").await.json().await.unwrap();
    assert!(
        config["mapTileUrl"].is_null(),
        "no tiles by default: {config}"
    );
    server.stop().await;

    let template = "https://tiles.example.jp/{z}/{x}/{y}.png";
    let server = TestServer::start_with(&["--map-tile-url", template]).await;
    let config: Value = server.get("/navi/config.json").await.json().await.unwrap();
    assert_eq!(config["mapTileUrl"], template);
    assert!(
        config["mapAttribution"]
            .as_str()
            .unwrap()
            .contains("OpenStreetMap")
    );
    let page = server.get("/navi").await;
    let csp = page.headers()["content-security-policy"].to_str().unwrap();
    assert!(
        csp.contains("img-src 'self' data: https://tiles.example.jp"),
        "the tiles' host may serve images: {csp}"
    );
    assert!(!csp.contains("connect-src 'self' ws: wss: https://tiles"));
    server.stop().await;
}
