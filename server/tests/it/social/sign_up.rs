//! A provider sign-up whose address the provider did not prove: the address is asked
//! for, and proved by a link opened in the same browser.

use super::*;

// ---------------------------------------------------------------------------------------
// Ways in: every change to how an account is entered is confirmed, announced, and final

#[tokio::test]
async fn a_sign_up_whose_address_the_provider_did_not_prove_waits_for_its_link_in_that_browser() {
    let world = World::start();
    let browser = world.browser();
    let res = round_trip(&browser, "facebook", "sign_in", "fay").await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    assert_eq!(
        location(&res),
        CONFIRM_EMAIL_PAGE,
        "the address is asked for"
    );
    assert!(session_cookie(&res).is_none(), "nobody is signed in yet");
    assert_eq!(world.count("SELECT COUNT(*) FROM users").await, 0);
    let pending = browser.json("load_pending_sign_up", &[]).await;
    assert_eq!(pending["provider"], "Facebook", "{pending}");
    assert_eq!(pending["email_hint"], "fay@example.test", "{pending}");

    let chosen = unique_email("fay");
    let res = browser
        .call("send_sign_up_link", &[("email", &chosen)])
        .await;
    assert_eq!(res.status(), StatusCode::OK);
    let token = new_link_in_log(&world, "/signup/finish", None).await;
    assert_eq!(
        world.count("SELECT COUNT(*) FROM users").await,
        0,
        "no account before the link"
    );

    // The link works only in the browser that signed up, once.
    let elsewhere = world.browser();
    let (status, message) =
        error_message(elsewhere.call("finish_sign_up", &[("token", &token)]).await).await;
    assert_eq!(status, StatusCode::CONFLICT, "{message}");
    assert!(message.contains("browser you signed up in"), "{message}");
    // Eight at once, as a double click or an attacker sends them: one account, once.
    let form = [("token", token.as_str())];
    let answers = join_all((0..8).map(|_| browser.call("finish_sign_up", &form))).await;
    let made = answers
        .iter()
        .filter(|a| a.status() == StatusCode::OK)
        .count();
    assert_eq!(
        made,
        1,
        "{:?}",
        answers.iter().map(|a| a.status()).collect::<Vec<_>>()
    );
    assert!(answers
        .iter()
        .all(|a| a.status() == StatusCode::OK || a.status() == StatusCode::CONFLICT));
    assert_eq!(world.count("SELECT COUNT(*) FROM users").await, 1);
    let profile = browser.json("load_profile", &[]).await;
    assert_eq!(profile["email"], chosen.as_str());
    assert_eq!(profile["verified"], true, "the address is proved");
    let user = world.user_id(&chosen).await;
    assert_eq!(world.links(user).await.len(), 1);
    assert_eq!(
        browser
            .call("finish_sign_up", &[("token", &token)])
            .await
            .status(),
        StatusCode::CONFLICT,
        "spent"
    );
    // The same Facebook account signs in to it from now on.
    let again = signed_in_with(&world, "facebook", "fay").await;
    assert_eq!(profile_email(&again).await, chosen);
}

#[tokio::test]
async fn a_provider_sign_up_to_a_taken_address_is_answered_alike_and_tells_its_owner() {
    let world = World::start();
    let owner = world.browser();
    let taken = unique_email("owned");
    assert_eq!(owner.sign_up(&taken).await.status(), StatusCode::OK);

    let mut answers = Vec::new();
    for (login, email) in [("gus", taken.clone()), ("hal", unique_email("free"))] {
        let browser = world.browser();
        let res = round_trip(&browser, "facebook", "sign_in", login).await;
        assert_eq!(location(&res), CONFIRM_EMAIL_PAGE);
        let res = browser
            .call("send_sign_up_link", &[("email", &email)])
            .await;
        answers.push((
            res.status(),
            header(&res, "location"),
            res.text().await.unwrap(),
        ));
    }
    assert_eq!(
        answers[0], answers[1],
        "a taken address is answered like a free one"
    );
    world
        .wait_for_log("Someone tried to sign up with your email address")
        .await;
    assert_eq!(
        world.count("SELECT COUNT(*) FROM users").await,
        1,
        "no account is made for either before its link"
    );
}
