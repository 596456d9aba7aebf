//! What a password must be: at least 12 characters, not holding the username, not one
//! character over and over, not a run of consecutive characters, not a common password.

use crate::Invalid;

/// The shortest password taken.
pub const MIN_LEN: usize = 12;

/// Passwords seen in every breach list (compared without case, and as the stem of a longer
/// password: `password2024!` is `password` with a tail).
const COMMON: &[&str] = &[
    "12345678",
    "123456789",
    "1234567890",
    "123456789012",
    "password",
    "passw0rd",
    "p@ssw0rd",
    "qwerty",
    "qwertyuiop",
    "1qaz2wsx",
    "abc123",
    "abcd1234",
    "a1b2c3d4",
    "iloveyou",
    "admin",
    "admin123",
    "welcome",
    "letmein",
    "111111",
    "000000",
    "88888888",
    "66666666",
    "woaini",
    "woaini1314",
    "5201314",
    "zhangwei",
    "asdfghjkl",
    "zxcvbnm",
];

/// Checks a new password against the rules; `username` must not be inside it.
pub fn check(password: &str, username: &str) -> Result<(), Invalid> {
    let chars: Vec<char> = password.chars().collect();
    if chars.len() < MIN_LEN {
        return Err(Invalid::new(
            "password.short",
            format!("密码至少 {MIN_LEN} 位"),
            format!("a password has at least {MIN_LEN} characters"),
        ));
    }
    if chars.len() > 200 {
        return Err(Invalid::new("password.long", "密码最多 200 位", "a password has at most 200 characters"));
    }
    let lower = password.to_lowercase();
    let user = username.trim().to_lowercase();
    if user.chars().count() >= 3 && lower.contains(&user) {
        return Err(Invalid::new(
            "password.username",
            "密码不能包含用户名",
            "a password must not contain the username",
        ));
    }
    if chars.iter().all(|c| *c == chars[0]) {
        return Err(Invalid::new(
            "password.same",
            "密码不能全是同一个字符",
            "a password must not be one character repeated",
        ));
    }
    // A run of consecutive characters; digits run on round the keyboard's row (…8, 9, 0, 1…).
    let follows = |a: char, b: char, d: i64| match (a.to_digit(10), b.to_digit(10)) {
        (Some(x), Some(y)) => i64::from(y) == (i64::from(x) + d).rem_euclid(10),
        _ => b as i64 - a as i64 == d,
    };
    let step = |d: i64| chars.windows(2).all(|w| follows(w[0], w[1], d));
    if step(1) || step(-1) {
        return Err(Invalid::new(
            "password.sequence",
            "密码不能是连续的字符（如 123456789012、abcdefghijkl）",
            "a password must not be a run of consecutive characters",
        ));
    }
    let stem = lower.trim_end_matches(|c: char| c.is_ascii_digit() || c.is_ascii_punctuation());
    let common = COMMON.iter().any(|c| lower == *c || stem == *c || (lower.starts_with(c) && c.len() >= 8));
    if common {
        return Err(Invalid::new("password.common", "密码过于常见，容易被猜中", "this password is too common"));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::check;

    #[test]
    fn the_rules_refuse_weak_passwords_by_their_reason() {
        let cases = [
            ("short1!", "password.short"),
            ("wangfang-2024-x", "password.username"),
            ("aaaaaaaaaaaa", "password.same"),
            ("123456789012", "password.sequence"),
            ("abcdefghijklm", "password.sequence"),
            ("987654321098", "password.sequence"),
            ("password2024!", "password.common"),
            ("qwertyuiop12", "password.common"),
            ("12345678abcd", "password.common"),
            ("Password!!!!", "password.common"),
        ];
        for (p, code) in cases {
            assert_eq!(check(p, "wangfang").err().map(|e| e.code), Some(code), "{p}");
        }
    }

    #[test]
    fn a_long_unusual_password_is_taken() {
        assert!(check("驻马店-培训-2026-春", "wangfang").is_ok());
        assert!(check("correct horse battery", "admin").is_ok());
    }
}
