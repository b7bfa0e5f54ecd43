//! The knowledge base: the nation writes manuals and FAQ per role; each user finds the ones
//! written for their role by words (Japanese or English, any width or case) and per screen.

mod common;

use common::TestServer;
use common::api::{error_reason, expect_error_code, sign_in_accepting_policy};
use serde_json::{Value, json};

const UPSERT: &str = "mutation($i: KnowledgeArticleInput!) { upsertKnowledgeArticle(input: $i) { id version roles pageKey } }";
const SEARCH: &str =
    "query($s: String, $k: KnowledgeKind) { knowledgeArticles(search: $s, kind: $k) { titleJa } }";

fn article(title: &str, body: &str, roles: &[&str], page: Option<&str>) -> Value {
    json!({ "i": {
        "kind": if page.is_some() { "MANUAL" } else { "FAQ" },
        "titleJa": title, "titleEn": format!("{title} (en)"),
        "bodyJa": body, "bodyEn": "See the PDF guide.",
        "roles": roles, "pageKey": page,
    } })
}

fn titles(data: &Value) -> Vec<String> {
    let mut titles: Vec<String> = data["knowledgeArticles"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["titleJa"].as_str().unwrap().to_owned())
        .collect();
    titles.sort();
    titles
}

async fn articles(server: &TestServer) -> i64 {
    sqlx::query_scalar("SELECT COUNT(*) FROM knowledge_articles")
        .fetch_one(server.state.db.pool())
        .await
        .unwrap()
}

#[tokio::test]
async fn each_role_finds_what_was_written_for_it_by_words_and_by_screen() {
    let server = TestServer::start().await;
    let nation = sign_in_accepting_policy(&server, "nation.admin").await;
    let meguro = sign_in_accepting_policy(&server, "meguro.admin").await;
    let tokyo = sign_in_accepting_policy(&server, "tokyo.admin").await;
    let lock = server
        .data_as(
            &nation,
            UPSERT,
            article(
                "データロックの手順",
                "都道府県は分配を確認してからデータロックします。",
                &["PREFECTURE"],
                Some("allocation.lock"),
            ),
        )
        .await;
    assert_eq!(
        lock["upsertKnowledgeArticle"]["roles"],
        json!(["PREFECTURE"])
    );
    server
        .data_as(
            &nation,
            UPSERT,
            article(
                "分配の確認",
                "市区町村は配分量を**確認**します。",
                &["MUNICIPALITY", "PREFECTURE"],
                Some("allocation.municipality"),
            ),
        )
        .await;
    server
        .data_as(
            &nation,
            UPSERT,
            article(
                "パスワードを忘れたら",
                "ログイン画面から再設定します。",
                &[],
                None,
            ),
        )
        .await;
    // Meguro sees what is written for municipalities and for everyone.
    let all = server.data_as(&meguro, SEARCH, json!({})).await;
    assert_eq!(titles(&all), ["パスワードを忘れたら", "分配の確認"]);
    // By words, in any width or case; every word must be there.
    for (who, search, expected) in [
        (&tokyo, "データロック", vec!["データロックの手順"]),
        (&tokyo, "ﾃﾞｰﾀﾛｯｸ", vec!["データロックの手順"]),
        (&tokyo, "確認", vec!["データロックの手順", "分配の確認"]),
        (&tokyo, "確認 ロック", vec!["データロックの手順"]),
        (&meguro, "データロック", vec![]),
        (
            &meguro,
            "ＰＤＦ guide",
            vec!["パスワードを忘れたら", "分配の確認"],
        ),
        (&meguro, "再設定", vec!["パスワードを忘れたら"]),
        (&meguro, "存在しない言葉", vec![]),
    ] {
        let found = server.data_as(who, SEARCH, json!({ "s": search })).await;
        assert_eq!(titles(&found), expected, "{search}");
    }
    let faq = server.data_as(&meguro, SEARCH, json!({ "k": "FAQ" })).await;
    assert_eq!(titles(&faq), ["パスワードを忘れたら"]);
    // A screen's help, for the roles it is written for.
    let help = "query($p: String!) { pageHelp(pageKey: $p) { titleJa } }";
    let tokyo_help = server
        .data_as(&tokyo, help, json!({ "p": "allocation.lock" }))
        .await;
    assert_eq!(tokyo_help["pageHelp"][0]["titleJa"], "データロックの手順");
    let meguro_help = server
        .data_as(&meguro, help, json!({ "p": "allocation.lock" }))
        .await;
    assert_eq!(meguro_help["pageHelp"], json!([]));
    // The nation sees everything; deleting removes an article from every search.
    assert_eq!(
        titles(
            &server
                .data_as(&nation, SEARCH, json!({ "s": "確認" }))
                .await
        ),
        ["データロックの手順", "分配の確認"]
    );
    server
        .data_as(
            &nation,
            "mutation($a: ID!) { deleteKnowledgeArticle(articleId: $a) }",
            json!({ "a": lock["upsertKnowledgeArticle"]["id"] }),
        )
        .await;
    assert_eq!(
        titles(&server.data_as(&tokyo, SEARCH, json!({ "s": "確認" })).await),
        ["分配の確認"]
    );
    let audited: i64 = sqlx::query_scalar(
        "SELECT COUNT(*) FROM audit_log WHERE operation IN ('upsertKnowledgeArticle', \
         'deleteKnowledgeArticle') AND outcome = 'SUCCESS'",
    )
    .fetch_one(server.state.db.pool())
    .await
    .unwrap();
    assert_eq!(audited, 4);
    server.stop().await;
}

#[tokio::test]
async fn bad_articles_and_searches_are_refused_and_change_nothing() {
    let server = TestServer::start().await;
    let nation = sign_in_accepting_policy(&server, "nation.admin").await;
    let first = server
        .data_as(
            &nation,
            UPSERT,
            article("手引き", "本文", &[], Some("home")),
        )
        .await;
    let id = first["upsertKnowledgeArticle"]["id"].clone();
    for (what, variables) in [
        ("an empty title", article(" ", "本文", &[], None)),
        (
            "a page key with spaces",
            article("手引き", "本文", &[], Some("my page")),
        ),
        (
            "a body over 50,000 characters",
            article("手引き", &"あ".repeat(50_001), &[], None),
        ),
    ] {
        let response = server.graphql_as(&nation, UPSERT, variables).await;
        assert_eq!(
            expect_error_code(&response),
            "INVALID_INPUT",
            "{what}: {response}"
        );
    }
    // A change based on an old version is refused.
    let mut change = article("手引き（改）", "本文", &[], Some("home"));
    change["i"]["articleId"] = id.clone();
    change["i"]["expectedVersion"] = json!(1);
    server.data_as(&nation, UPSERT, change.clone()).await;
    let stale = server.graphql_as(&nation, UPSERT, change).await;
    assert_eq!(error_reason(&stale), "STALE_VERSION", "{stale}");
    // A search of more than 100 characters.
    let long = server
        .graphql_as(&nation, SEARCH, json!({ "s": "あ".repeat(101) }))
        .await;
    assert_eq!(expect_error_code(&long), "INVALID_INPUT");
    assert_eq!(articles(&server).await, 1);
    // Reading needs a session.
    let anonymous = server.graphql(SEARCH, json!({})).await;
    assert_eq!(expect_error_code(&anonymous), "UNAUTHENTICATED");
    server.stop().await;
}

const ATTACH: &str = "mutation($a: ID!, $t: String!, $file: Upload!) { attachKnowledgeFile(articleId: $a, title: $t, file: $file) { id title fileName contentType byteSize } }";

#[tokio::test]
async fn attachments_are_previewed_and_downloaded_and_only_safe_types_are_kept() {
    let server = TestServer::start_signing_in_freely().await;
    let nation = sign_in_accepting_policy(&server, "nation.admin").await;
    let meguro = sign_in_accepting_policy(&server, "meguro.admin").await;
    let created = server
        .data_as(&nation, UPSERT, article("予約の手引き", "本文", &[], None))
        .await;
    let id = created["upsertKnowledgeArticle"]["id"].clone();
    let pdf = b"%PDF-1.4\n% a manual\n%%EOF\n";
    let operations =
        json!({ "query": ATTACH, "variables": { "a": id, "t": "操作マニュアル", "file": null } });
    let (status, response) = common::documents::multipart(
        &server,
        &nation,
        operations.clone(),
        pdf,
        "manual v2.pdf",
        true,
    )
    .await;
    assert_eq!(status, 200, "{response}");
    let attached = &response["data"]["attachKnowledgeFile"];
    assert_eq!(attached["contentType"], "application/pdf", "{response}");
    assert_eq!(attached["fileName"], "manualv2.pdf");
    // A page of script named .pdf is refused: the type is read from the bytes.
    let (_, refused) = common::documents::multipart(
        &server,
        &nation,
        operations.clone(),
        b"<html><script>alert(1)</script></html>",
        "manual.pdf",
        true,
    )
    .await;
    assert_eq!(expect_error_code(&refused), "INVALID_INPUT", "{refused}");
    // Only the nation attaches.
    let (_, forbidden) =
        common::documents::multipart(&server, &meguro, operations, pdf, "m.pdf", true).await;
    assert_eq!(expect_error_code(&forbidden), "FORBIDDEN", "{forbidden}");
    let stored: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM knowledge_attachments")
        .fetch_one(server.state.db.pool())
        .await
        .unwrap();
    assert_eq!(stored, 1);

    // A reader previews it in the browser or downloads it.
    let read = server
        .data_as(
            &meguro,
            "{ knowledgeArticles { attachments { title previewUrl downloadUrl } } }",
            json!({}),
        )
        .await;
    let attachment = &read["knowledgeArticles"][0]["attachments"][0];
    assert_eq!(attachment["title"], "操作マニュアル");
    let path = |url: &Value| {
        let url = url.as_str().unwrap();
        url[url.find("/files/").unwrap()..].to_owned()
    };
    let preview = server.get(&path(&attachment["previewUrl"])).await;
    assert_eq!(preview.status(), 200);
    assert_eq!(preview.headers()["content-type"], "application/pdf");
    assert_eq!(preview.headers()["x-content-type-options"], "nosniff");
    assert!(
        preview.headers()["content-disposition"]
            .to_str()
            .unwrap()
            .starts_with("inline"),
    );
    assert_eq!(preview.bytes().await.unwrap().as_ref(), pdf);
    let download = server.get(&path(&attachment["downloadUrl"])).await;
    assert!(
        download.headers()["content-disposition"]
            .to_str()
            .unwrap()
            .starts_with("attachment"),
    );

    // Deleting the article deletes its files.
    server
        .data_as(
            &nation,
            "mutation($a: ID!) { deleteKnowledgeArticle(articleId: $a) }",
            json!({ "a": id }),
        )
        .await;
    let files: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM generated_files")
        .fetch_one(server.state.db.pool())
        .await
        .unwrap();
    assert_eq!(files, 0);
    assert_eq!(
        server.get(&path(&attachment["downloadUrl"])).await.status(),
        404
    );
    server.stop().await;
}
