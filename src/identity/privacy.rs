//! The personal-information policy (V-SYSにおける個人情報保護方針) that medical institutions
//! accept before anything else (seed p. 9). The text lives in the code, so a new version ships
//! with a release; the version a user accepted is stored, and a user who accepted an older one
//! is asked again.

/// The version in force. Changing the text means giving it a new version.
pub const CURRENT_VERSION: &str = "2021-02-17";

/// The policy in Japanese.
pub const TEXT_JA: &str = "\
V-SYSにおける個人情報保護方針（2021年2月17日版）

1. 取り扱う情報
V-SYS（ワクチン接種円滑化システム）は、ワクチンの分配、納入、接種体制の確保のために、利用者の氏名、\
所属、メールアドレス、ログイン記録と、医療機関等の情報（所在地、連絡先、医師の氏名と登録番号、契約）を取り扱います。

2. 利用目的
これらの情報は、ワクチン・針・シリンジの分配と納入、接種会場の案内、費用請求、システムの安全な運用のためにのみ利用し、\
それ以外の目的には利用しません。

3. 提供
法令に基づく場合を除き、国、都道府県、市区町村、当該医療機関等と、業務に必要な範囲の事業者（卸業者等）以外に提供しません。\
一般に公開するのは、医療機関等が公開に同意した名称、所在地、電話番号、受付時間等に限ります。

4. 安全管理
通信は暗号化し、パスワードと秘密の質問の答えは復元できない形で保存します。すべての変更と個人情報の閲覧は記録され、\
記録は改ざんできません。

5. 利用者の責任
アカウントを他人と共有しないでください。ダウンロードした情報は業務の終了後に速やかに削除してください。\
漏えいのおそれに気づいた場合は、直ちにV-SYSサービスデスクへ連絡してください。

6. 問い合わせ・開示等
自己の情報の開示、訂正、利用停止の求めは、所属組織の管理者またはV-SYSサービスデスクへ連絡してください。

7. 改定
本方針を改定した場合は、次回ログイン時に改めて同意をお願いします。
";

/// The policy in English.
pub const TEXT_EN: &str = "\
V-SYS personal-information policy (version of 17 February 2021)

1. What we handle
V-SYS (the vaccination facilitation system) handles users' names, organisations, e-mail addresses and \
sign-in records, and the data of facilities (address, contact details, doctors' names and registration \
numbers, contracts), in order to allocate and deliver vaccines and to organise vaccination.

2. Purposes
This information is used only to allocate and deliver vaccines, needles and syringes, to guide the public \
to vaccination venues, for billing, and to run the system securely; never for any other purpose.

3. Disclosure
Except where the law requires it, nothing is disclosed beyond the nation, prefectures, municipalities, the \
facility concerned, and the businesses (such as wholesalers) that need it for their work. The public sees \
only what a facility agreed to publish: its name, address, phone number, hours and the like.

4. Security
Connections are encrypted; passwords and security answers are stored in a form that cannot be reversed. \
Every change and every reading of personal data is recorded in a log that cannot be altered.

5. Your responsibilities
Do not share your account. Delete downloaded data as soon as your work with it is done. If you suspect a \
leak, tell the V-SYS service desk at once.

6. Questions, access and correction
To see, correct or stop the use of your own data, contact your organisation's administrator or the V-SYS \
service desk.

7. Changes
When this policy changes, you will be asked to accept it again at your next sign-in.
";

/// Whether the user accepted the version in force.
pub fn accepted_current(user: &super::UserRecord) -> bool {
    user.privacy_policy_version.as_deref() == Some(CURRENT_VERSION)
}
