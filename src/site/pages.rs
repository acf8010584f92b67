//! The HTML of every screen, with the manual's words and the stable element IDs that
//! automation relies on: `#password`, `#password-submit`, `#username`, `#signin`, `#register` /
//! `#sign-in`, `#label`, `#label-ok`, `#complete`, `#error`.

/// The one answer to a refused password: wrong password, unknown, expired, locked and
/// superseded URLs all read alike (manual §2; security rule).
pub const PASSWORD_REFUSED: &str = "パスワードが正しくないか、このURLは無効です。URLの有効期限切れ、またはパスワードを5回誤った場合は、再発行の手続きを行ってください。 (The password is wrong or this URL is no longer valid. If the URL has expired or was locked after 5 wrong passwords, follow the re-issue procedure.)";

/// The completion message (manual §1.2 step 8).
pub const COMPLETE: &str = "処理が完了しました";

/// Escapes text for HTML element content and quoted attribute values.
pub fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

fn layout(title: &str, csrf: Option<&str>, body: &str, script: bool) -> String {
    let csrf_meta = csrf
        .map(|t| format!("<meta name=\"csrf-token\" content=\"{}\">", escape(t)))
        .unwrap_or_default();
    let script = if script {
        "<script src=\"/static/site.js\" defer></script>"
    } else {
        ""
    };
    format!(
        "<!doctype html>\n<html lang=\"ja\">\n<head>\n<meta charset=\"utf-8\">\n\
<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n{csrf_meta}\n\
<title>{title} — HPKI セカンド電子証明書</title>\n<link rel=\"stylesheet\" href=\"/static/site.css\">\n{script}\n</head>\n\
<body>\n<header>HPKI セカンド電子証明書 初期登録</header>\n<main>\n{body}\n</main>\n</body>\n</html>\n",
        title = escape(title),
    )
}

fn error_block(error: Option<(&str, &str)>) -> String {
    match error {
        Some((code, message)) => format!(
            "<p id=\"error\" class=\"error\" role=\"alert\" data-code=\"{}\">{}</p>",
            escape(code),
            escape(message)
        ),
        None => String::new(),
    }
}

fn csrf_field(csrf: &str) -> String {
    format!(
        "<input type=\"hidden\" name=\"csrf\" value=\"{}\">",
        escape(csrf)
    )
}

/// The landing page for a bare visit.
pub fn home() -> String {
    layout(
        "ようこそ",
        None,
        "<h1>HPKI セカンド電子証明書 初期登録</h1>\n<p>初期登録用QRコードを読み取り、表示されたURLを開いてください。 (Scan the QR code on your initial registration sheet and open its URL.)</p>",
        false,
    )
}

/// Step 3: the password screen.
pub fn password(action: &str, csrf: &str, error: Option<(&str, &str)>) -> String {
    let body = format!(
        "<h1>パスワード入力</h1>\n{error}\n<form method=\"post\" action=\"{action}\">\n{csrf}\n\
<label for=\"password\">パスワード (Password)</label>\n\
<input id=\"password\" name=\"password\" type=\"password\" inputmode=\"numeric\" autocomplete=\"off\" required maxlength=\"64\">\n\
<p class=\"note\">初期登録用QRシートに記載のパスワード（生年月日8桁）を入力してください。5回誤るとこのURLは無効になります。 (The password printed on the QR sheet: your date of birth as 8 digits. After 5 wrong passwords this URL is invalidated.)</p>\n\
<button id=\"password-submit\" type=\"submit\">OK</button>\n</form>",
        error = error_block(error),
        action = escape(action),
        csrf = csrf_field(csrf),
    );
    layout("パスワード", None, &body, false)
}

/// Step 4: the SignIn screen, `Username` pre-filled (empty after an error, as on the real site).
pub fn sign_in(csrf: &str, username: &str, error: Option<(&str, &str)>) -> String {
    let body = format!(
        "<h1>SignIn</h1>\n{error}\n<form method=\"post\" action=\"/signin\">\n{csrf}\n\
<label for=\"username\">Username</label>\n\
<input id=\"username\" name=\"username\" type=\"text\" autocomplete=\"username\" autocapitalize=\"none\" spellcheck=\"false\" required maxlength=\"64\" value=\"{username}\">\n\
<p class=\"note\">ユーザー名は「薬剤師名簿登録番号-jpa」です（例: 999999-jpa）。 (The username is your pharmacist registry number followed by -jpa.)</p>\n\
<button id=\"signin\" type=\"submit\">SignIn</button>\n</form>",
        error = error_block(error),
        csrf = csrf_field(csrf),
        username = escape(username),
    );
    layout("SignIn", None, &body, false)
}

/// Step 5: `Register` when the applicant has no credential, `Sign In` when they have one.
pub fn step5(csrf: &str, name: &str, register: bool) -> String {
    let button = if register {
        "<button id=\"register\" type=\"button\" data-ceremony=\"create\" data-options=\"/webauthn/register/options\" data-finish=\"/webauthn/register/finish\">Register</button>"
    } else {
        "<button id=\"sign-in\" type=\"button\" data-ceremony=\"get\" data-options=\"/webauthn/authenticate/options\" data-finish=\"/webauthn/authenticate/finish\">Sign In</button>"
    };
    let heading = if register {
        "<h1>認証器の登録</h1>\n<p>「Register」を押すと、指紋または顔による認証が始まります。 (Press Register: your phone will ask for your fingerprint or face.)</p>"
    } else {
        "<h1>サインイン</h1>\n<p>この端末は登録済みです。「Sign In」を押して確認してください。 (This device is registered: press Sign In to check it.)</p>"
    };
    let body = format!(
        "{heading}\n<p class=\"applicant\">{name} 様</p>\n{button}\n<p id=\"progress\" class=\"note\" hidden></p>\n\
<section id=\"error-panel\" hidden>\n<h2>Security Key Error</h2>\n<p id=\"error\" class=\"error\" role=\"alert\"></p>\n\
<ul id=\"guidance\">\n\
<li data-guidance=\"biometrics\">端末に生体認証（指紋・顔）が登録されていない可能性があります。登録してから、手順2（QRコードの読み取り）からやり直してください。 (No fingerprint or face may be enrolled on this device: enrol one, then start again from step 2, scanning the QR code.)</li>\n\
<li data-guidance=\"browser\">対応していないブラウザの可能性があります。iPhone は Safari、Android は Chrome で開いてください。 (The browser may not be supported: open the URL in Safari on an iPhone or Chrome on Android.)</li>\n\
<li data-guidance=\"not-capable\">この端末が FIDO2 に対応していない場合、モバイルでの利用はできません。HPKIカードによる認証をご利用ください。 (If this device does not support FIDO2, it cannot be used: use HPKI card authentication.)</li>\n\
</ul>\n</section>",
        name = escape(name),
    );
    layout(
        if register { "Register" } else { "Sign In" },
        Some(csrf),
        &body,
        true,
    )
}

/// Step 7: the label screen, pre-filled by the system.
pub fn label(csrf: &str, value: &str, error: Option<(&str, &str)>) -> String {
    let body = format!(
        "<h1>ラベル登録</h1>\n{error}\n<form method=\"post\" action=\"/label\">\n{csrf}\n\
<label for=\"label\">ラベル (Label)</label>\n\
<input id=\"label\" name=\"label\" type=\"text\" required maxlength=\"64\" value=\"{value}\">\n\
<p class=\"note\">登録した認証器を識別するためのラベルです。そのまま「OK」を押してください。 (A label that identifies the new key: just press OK.)</p>\n\
<button id=\"label-ok\" type=\"submit\">OK</button>\n</form>",
        error = error_block(error),
        csrf = csrf_field(csrf),
        value = escape(value),
    );
    layout("ラベル登録", None, &body, false)
}

/// Step 8: the completion screen.
pub fn complete(signed_in: bool) -> String {
    let detail = if signed_in {
        "サインインできました。この端末は登録済みです。 (Signed in: this device is registered.)"
    } else {
        "登録が完了しました。 (Enrolment is done.)"
    };
    let body = format!(
        "<h1>完了</h1>\n<p id=\"complete\" class=\"complete\" data-outcome=\"{}\">{COMPLETE}</p>\n<p>{detail}</p>",
        if signed_in { "signed-in" } else { "registered" }
    );
    layout("完了", None, &body, false)
}

/// Any error screen.
pub fn error(code: &str, message: &str) -> String {
    let body = format!(
        "<h1>エラー (Error)</h1>\n{}",
        error_block(Some((code, message)))
    );
    layout("エラー", None, &body, false)
}
