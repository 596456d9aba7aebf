//! The words of the plan each rule comes from, quoted from the source text, for explanations.

/// `(clause id, quote)` for every clause a rule cites.
pub const QUOTES: &[(&str, &str)] = &[
    ("S1", "对贫困家庭子女、贫困劳动力、“两后生”、农村转移就业劳动者、下岗失业人员和转岗职工、退役军人、残疾人开展免费职业技能培训行动，对高校毕业生和企业职工按规定给予职业培训补贴。"),
    ("S2", "对贫困劳动力、就业困难人员、零就业家庭成员、“两后生”中的农村学员和城市低保家庭成员，在培训期间按规定通过就业补助资金同时给予生活费补贴。"),
    ("S3", "符合条件的企业职工参加岗前培训、安全技能培训、转岗转业培训或初级工、中级工、高级工、技师、高级技师培训，按规定给予职业培训补贴或参保职工技能提升补贴。"),
    ("S4", "职工参加企业新型学徒制培训的，按规定给予职业培训补贴，由企业自主用于学徒培训工作。"),
    ("S5", "企业、农民专业合作社和扶贫车间等各类生产经营主体吸纳贫困劳动力就业六个月以上并开展以工代训，以及参保企业吸纳就业困难人员、零就业家庭成员就业并开展以工代训的，按每人每月200元的标准给予生产经营主体以工代训补贴，最长不超过6个月，以工代训补贴和新录用人员岗前技能培训补贴不得重复享受。"),
    ("S7", "符合条件的劳动者在户籍地、常住地、求职就业地参加培训后取得证书（职业资格证书、职业技能等级证书、专项职业能力证书、特种作业操作证书、培训合格证书等）的，按规定给予职业培训补贴，原则上每人每年可享受不超过3次，但同一职业同一等级不可重复享受。"),
    ("S8", "将确有培训需求、不具有按月领取养老金资格的人员纳入政策范围。"),
    ("S9", "对企业开展培训或者培训机构开展项目制培训的，可先行拨付50%的培训补贴资金。"),
    ("S12", "承担补贴性职业技能培训机构、评价（鉴定）机构目录的单位，必须使用河南省职业培训信息管理服务系统和就业创业实名制管理系统，做到“补贴培训进系统、系统之外零补贴”"),
    ("E1b", "对企业依法提取职工教育经费并按规定用于高技能人才培训基地、技能大师工作室建设，经所在地财政局、人力资源社会保障局验收合格的，市县区政府可按企业新购置实训设备总值的20%从就业补助资金中给予一次性补助，最高分别不超过50万元、10万元。"),
    ("P8", "对有创业愿望的人员和开业5年以内的小微企业主开展创业培训"),
];

/// The quote of a clause.
pub fn quote(clause: &str) -> Option<&'static str> {
    QUOTES.iter().find(|(c, _)| *c == clause).map(|(_, q)| *q)
}

/// `(rule, Chinese name, English name)` for every rule the engine checks, as people read them
/// beside the clause id (the rule functions are in the engine's `rules` module).
pub const RULES: &[(&str, &str, &str)] = &[
    ("s2_own_training", "培训为申请人本人参加", "the training is the applicant's own"),
    ("s2_eligible_group", "属于享受生活费补贴的人员类别", "in a group entitled to the living allowance"),
    ("s3_employee", "取证时为企业职工", "an enterprise employee when certified"),
    ("s3_insured_long_enough", "参保缴费满规定月数", "insured for the minimum months"),
    ("s3_has_level", "技能提升补贴须有职业技能等级", "the skill-upgrade subsidy needs a skill level"),
    (
        "s3_either_or",
        "同一证书只享受职业培训补贴或技能提升补贴之一",
        "one certificate earns the training or the skill-upgrade subsidy, not both",
    ),
    ("s3_new_hire", "本单位新录用人员的岗前培训", "pre-job training of the employer's new hire"),
    ("s4_apprenticeship", "本企业职工的新型学徒制培训", "the employer's apprenticeship training of this person"),
    (
        "s5_eligible",
        "吸纳贫困劳动力满规定月数，或参保企业吸纳就业困难人员、零就业家庭成员",
        "employs a poor worker long enough, or an insured employer a hard-to-employ person",
    ),
    ("s5_no_conflict", "以工代训补贴与岗前培训补贴不重复享受", "never both the on-the-job and the pre-job subsidy"),
    ("s5_months_cap", "以工代训补贴不超过最长月数", "on-the-job subsidy within the longest period"),
    ("s7_place", "在户籍地、常住地或求职就业地参加培训", "trained where the person is registered, lives or works"),
    ("s7_own_certificate", "证书为申请人本人所有", "the certificate is the applicant's"),
    ("s7_yearly_cap", "每人每年享受次数不超过上限", "within the yearly number of certificate subsidies"),
    ("s7_same_occupation_level", "同一职业同一等级不重复享受", "never the same occupation and level twice"),
    ("s8_no_monthly_pension", "不具有按月领取养老金资格", "not entitled to a monthly pension"),
    ("s9_not_settled", "项目尚未清算", "the project is not settled yet"),
    ("s9_one_advance", "每个项目只先行拨付一次", "one advance per project"),
    ("s9_settlement_covers_advance", "清算金额不低于已先行拨付的金额", "the settlement covers the advance"),
    ("s12_in_system", "补贴培训进系统", "the training is in the system"),
    ("e1b_accepted", "经财政、人社部门验收合格", "accepted by finance and HR"),
    ("e1b_once_per_facility", "每个基地或工作室只补助一次", "one grant per facility"),
    ("e1b_cap", "补助不超过最高限额", "within the grant's cap"),
    ("p8_business_age", "开业年限在规定年数以内", "the business is young enough"),
];

/// The Chinese and English names of a rule.
pub fn rule_words(rule: &str) -> Option<(&'static str, &'static str)> {
    RULES.iter().find(|(r, ..)| *r == rule).map(|(_, zh, en)| (*zh, *en))
}

#[cfg(test)]
mod tests {
    /// Every rule the engine checks has words, and every word names a rule it checks.
    #[test]
    fn every_rule_checked_has_a_name_for_people() {
        let source = include_str!("engine/kinds.rs");
        let checked: std::collections::BTreeSet<&str> = source
            .match_indices("check(\"")
            .map(|(at, m)| {
                let rest = &source[at + m.len()..];
                &rest[..rest.find('"').expect("a closing quote")]
            })
            .collect();
        assert!(checked.len() >= 20, "the rules were found: {checked:?}");
        for rule in &checked {
            assert!(super::rule_words(rule).is_some(), "{rule} has no name");
        }
        for (rule, ..) in super::RULES {
            assert!(checked.contains(rule), "{rule} is named but never checked");
        }
    }
}
