//! The recovery codes as a text file: built in the browser from the codes on screen, or
//! by the host for a browser without JavaScript, so both must write the same file.

/// The file's name, in the browser's download and in the host's `Content-Disposition`.
pub const DOWNLOAD_NAME: &str = "gatehouse-recovery-codes.txt";

/// The file's contents: a short header, then one code per line.
pub fn codes_file(email: &str, generated: &str, codes: &[String]) -> String {
    let mut text = format!(
        "Gatehouse recovery codes\n\
         Account: {email}\n\
         Generated: {generated}\n\n\
         If you lose your authenticator app, sign in with your password and enter one of\n\
         these codes where Gatehouse asks for your two-factor authentication code.\n\
         Each code works once. Keep this file somewhere safe, not on your phone.\n\n"
    );
    for code in codes {
        text.push_str(code);
        text.push('\n');
    }
    text
}
