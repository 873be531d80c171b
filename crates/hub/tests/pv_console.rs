//! The proces-verbaal's seal from the console as a file (issue 17): before,
//! the seal was only a response header, so a browser download had no
//! `.sig` and the exam board could not check the PDF it was given.
#![allow(missing_docs)]

mod common;

use common::*;
use exam_hub::pki::Keys;
use exam_hub::reports;
use std::process::Command;

/// Adds a console account for `room` and signs it in: (client, session cookie).
async fn sign_in(hub: &TestHub, username: &str, room: &str) -> (reqwest::Client, String) {
    hub.console_sign_in(username, "invigilator", &[room]).await
}

async fn get(hub: &TestHub, session: &(reqwest::Client, String), path: &str) -> reqwest::Response {
    session.0.get(hub.url(path)).header(reqwest::header::COOKIE, &session.1).send().await.unwrap()
}

fn file_name(resp: &reqwest::Response) -> String {
    resp.headers()[reqwest::header::CONTENT_DISPOSITION].to_str().unwrap().to_string()
}

async fn the_seal_is_a_download_next_to_the_pdf(backend: Backend) {
    let Some(hub) = TestHub::start(backend).await else { return };
    let key = Keys::load(&hub.data()).unwrap().signing_public_hex;
    let invigilator = sign_in(&hub, "wit", ROOM).await;
    let base = "/console/api/sittings/S1/proces-verbaal";

    // Before a download there is nothing the seal could belong to.
    let early = get(&hub, &invigilator, &format!("{base}.pdf.sig")).await;
    assert_eq!(early.status(), 404);
    assert!(early.text().await.unwrap().contains("download eerst het proces-verbaal"));

    for kind in ["pdf", "html"] {
        let resp = get(&hub, &invigilator, &format!("{base}.{kind}")).await;
        assert_eq!(resp.status(), 200);
        let document = resp.bytes().await.unwrap().to_vec();
        // The PV changes while the hub runs (here: its generation time), so
        // the seal must be the one of the file downloaded, not of a new one.
        tokio::time::sleep(std::time::Duration::from_millis(5)).await;
        let resp = get(&hub, &invigilator, &format!("{base}.{kind}.sig")).await;
        assert_eq!(resp.status(), 200);
        assert_eq!(file_name(&resp), format!("attachment; filename=\"proces-verbaal-S1.{kind}.sig\""));
        let text = resp.text().await.unwrap();
        let seal = reports::Seal::parse(&text).expect("a seal file");
        reports::verify_seal(&key, &document, &seal).expect("the seal covers the downloaded file");

        // And exam-hub verify-pv, as the exam board runs it, accepts the pair.
        let dir = hub.path(&format!("board-{kind}"));
        std::fs::create_dir_all(&dir).unwrap();
        let file = dir.join(format!("proces-verbaal-S1.{kind}"));
        std::fs::write(&file, &document).unwrap();
        std::fs::write(dir.join(format!("proces-verbaal-S1.{kind}.sig")), &text).unwrap();
        let out = Command::new(exe())
            .arg("verify-pv")
            .arg(&file)
            .arg(dir.join(format!("proces-verbaal-S1.{kind}.sig")))
            .args(["--key", &key])
            .output()
            .unwrap();
        assert!(out.status.success(), "verify-pv: {}", String::from_utf8_lossy(&out.stderr));
        // A second download gives a new file and a new seal; the old seal does not fit it.
        let again = get(&hub, &invigilator, &format!("{base}.{kind}")).await.bytes().await.unwrap().to_vec();
        if again != document {
            assert!(reports::verify_seal(&key, &again, &seal).is_err());
        }
        let newer = reports::Seal::parse(&get(&hub, &invigilator, &format!("{base}.{kind}.sig")).await.text().await.unwrap()).unwrap();
        reports::verify_seal(&key, &again, &newer).expect("the seal of the latest download");
    }

    // Only who may download the PDF gets its seal: an invigilator of another room does not.
    let other = sign_in(&hub, "bos", OTHER_ROOM).await;
    assert_eq!(get(&hub, &other, &format!("{base}.pdf")).await.status(), 403);
    assert_eq!(get(&hub, &other, &format!("{base}.pdf.sig")).await.status(), 403);
    // Signed out: nothing.
    let anonymous = hub.anonymous().get(hub.url(&format!("{base}.pdf.sig"))).send().await.unwrap();
    assert_eq!(anonymous.status(), 401);
}
on_both_backends!(the_seal_is_a_download_next_to_the_pdf);
