//! What pages and the API show, built once: the page for a program and `GET
//! /api/v1/programs/{code}` serialise the same structs, so their numbers cannot differ. Also
//! the caller's scopes (which people, classes and employers they see) and the views that more
//! than one resource shows (a claim on the claims list and on a person's record).

use crate::error::AppError;
use jineng_domain::plan::TargetValue;
use jineng_domain::Role;
use jineng_domain::{ClaimKind, ClaimStatus, PriorityGroup};
use jineng_store::claims::{self, ClaimRow, ClaimScope};
use jineng_store::people::Visibility;
use jineng_store::plan::{self, Counts, GroupBy, ProgramRow};
use jineng_store::training::ClassScope;
use jineng_store::users::User;
use jineng_store::Db;
use minijinja::{context, Value};
use serde::Serialize;
use serde_json::{json, Value as Json_};
use std::collections::HashMap;
use utoipa::ToSchema;

/// A department named by code, with its names.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct DeptRef {
    pub code: String,
    /// Chinese name.
    pub name_zh: String,
    /// English name.
    pub name_en: String,
}

/// Person-times of one slice.
#[derive(Debug, Clone, Default, Serialize, ToSchema)]
pub struct Done {
    /// Completed trainings (person-times).
    pub person_times: i64,
    /// Of which subsidised.
    pub subsidised: i64,
    /// Of which skill-upgrade training.
    pub skill_upgrade: i64,
    /// Skill-upgrade share, per mille of person-times (None when nothing is done).
    pub share_permille: Option<i64>,
}

impl Done {
    fn from_counts(c: &Counts) -> Self {
        Self::new(c.person_times, c.subsidised, c.skill_upgrade)
    }

    fn new(person_times: i64, subsidised: i64, skill_upgrade: i64) -> Self {
        let share_permille = (person_times > 0).then(|| skill_upgrade * 1000 / person_times);
        Self { person_times, subsidised, skill_upgrade, share_permille }
    }

    fn add(&mut self, o: &Done) {
        *self = Done::new(
            self.person_times + o.person_times,
            self.subsidised + o.subsidised,
            self.skill_upgrade + o.skill_upgrade,
        );
    }
}

/// A program (or sub-target) with its target and progress.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ProgramView {
    pub code: String,
    /// Parent code for sub-targets.
    pub parent: Option<String>,
    /// Chinese name.
    pub name_zh: String,
    /// English name.
    pub name_en: String,
    /// `person_times`, `persons`, `none`.
    pub unit: String,
    /// `set`, `pending` (待定), `partly_pending` (a parent some of whose sub-targets are pending) or `none`.
    pub target_state: String,
    /// The target value (for a parent: the sum of its set sub-targets).
    pub target: Option<i64>,
    /// Departments asked to propose a pending value.
    pub asked: Vec<DeptRef>,
    /// Province-wide reference figure for a pending target.
    pub province_note: Option<String>,
    /// Required skill-upgrade share, percent.
    pub share_pct: Option<i64>,
    /// Done so far.
    pub done: Done,
    /// Distinct people who completed, for a target stated in persons (万人).
    pub done_persons: Option<i64>,
    /// Done against the target, per mille (persons or person-times, as the target is stated).
    pub done_permille: Option<i64>,
    /// Whether the skill-upgrade share meets the requirement (None without requirement or data).
    pub share_met: Option<bool>,
    /// Responsible departments.
    pub responsible: Vec<DeptRef>,
    /// City and county governments are responsible too.
    pub lead_governments: bool,
    /// Clause id.
    pub clause: String,
    /// The plan's words.
    pub quote: String,
    /// Note (Chinese).
    pub note_zh: Option<String>,
    /// Note (English).
    pub note_en: Option<String>,
    /// Whether classes can be filed under it (no sub-targets).
    pub leaf: bool,
}

/// An overall target (T1–T3).
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct TargetView {
    /// `T1`…
    pub id: String,
    /// Chinese name.
    pub name_zh: String,
    /// English name.
    pub name_en: String,
    pub unit: String,
    /// Target value.
    pub value: i64,
    /// Subsidised target (T1).
    pub subsidised_target: Option<i64>,
    /// Counted from completion rows (T1); None for ratios measured by labour statistics.
    pub done: Option<i64>,
    /// Subsidised person-times done (T1).
    pub subsidised_done: Option<i64>,
    /// Per mille of the target.
    pub done_permille: Option<i64>,
    /// Per mille of the subsidised target.
    pub subsidised_permille: Option<i64>,
    pub clause: String,
    pub quote: String,
    /// Note (Chinese).
    pub note_zh: Option<String>,
    /// Note (English).
    pub note_en: Option<String>,
}

/// The plan at a glance.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct PlanOverview {
    /// Plan title (Chinese).
    pub name_zh: String,
    /// Plan title (English).
    pub name_en: String,
    /// Status of the text.
    pub status_zh: String,
    /// Status (English).
    pub status_en: String,
    /// Period start.
    pub start: String,
    /// Period end.
    pub end: String,
    /// T1–T3.
    pub targets: Vec<TargetView>,
    /// Programs visible to the caller, in plan order (parents before their sub-targets).
    pub programs: Vec<ProgramView>,
}

/// One row of a drill-down (a county or a month).
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct SliceView {
    /// County code or `YYYY-MM`.
    pub key: String,
    /// County name or month label.
    pub label: String,
    pub done: Done,
}

/// A program with its counties and months.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ProgramDetail {
    /// The program.
    pub program: ProgramView,
    /// Its sub-targets.
    pub children: Vec<ProgramView>,
    /// By county (every county, zero where nothing is done).
    pub by_county: Vec<SliceView>,
    /// By month: every month of the plan's period (and any other with completions), zero where
    /// nothing was done.
    pub by_month: Vec<SliceView>,
    /// Changes of the target, newest first.
    pub target_changes: Vec<TargetChangeView>,
}

/// A change of a target.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct TargetChangeView {
    /// Old value (None: was pending).
    pub old_target: Option<i64>,
    /// New value.
    pub new_target: i64,
    pub reason: String,
    pub changed_by: String,
    /// When (RFC 3339).
    pub changed_at: String,
}

/// A county with its programs.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct CountyDetail {
    pub code: String,
    /// Chinese name.
    pub name_zh: String,
    /// English name.
    pub name_en: String,
    /// All programs done in this county.
    pub total: Done,
    /// Programs (leaf programs, and parents summed), in plan order.
    pub programs: Vec<SliceView>,
}

struct Ctx {
    programs: Vec<ProgramRow>,
    depts: HashMap<String, DeptRef>,
}

async fn ctx(db: &Db) -> Result<Ctx, AppError> {
    let programs = plan::programs(db).await?;
    let depts = plan::departments(db)
        .await?
        .into_iter()
        .map(|d| {
            (d.department_code.clone(), DeptRef { code: d.department_code, name_zh: d.name_zh, name_en: d.name_en })
        })
        .collect();
    Ok(Ctx { programs, depts })
}

impl Ctx {
    fn dept(&self, code: &str) -> DeptRef {
        self.depts.get(code).cloned().unwrap_or(DeptRef {
            code: code.into(),
            name_zh: code.into(),
            name_en: code.into(),
        })
    }

    fn children(&self, code: &str) -> Vec<&ProgramRow> {
        self.programs.iter().filter(|p| p.parent_code.as_deref() == Some(code)).collect()
    }

    /// Leaf program codes under a program (itself if it is a leaf).
    fn leaves(&self, code: &str) -> Vec<String> {
        let kids = self.children(code);
        if kids.is_empty() {
            vec![code.to_owned()]
        } else {
            kids.iter().flat_map(|k| self.leaves(&k.program_code)).collect()
        }
    }

    /// Distinct people per leaf program whose target is stated in persons.
    async fn persons(&self, db: &Db) -> Result<HashMap<String, i64>, AppError> {
        let codes: Vec<String> =
            self.programs.iter().filter(|p| p.unit == "persons").flat_map(|p| self.leaves(&p.program_code)).collect();
        Ok(plan::persons(db, &codes).await?.into_iter().collect())
    }

    fn view(
        &self,
        p: &ProgramRow,
        done_by_leaf: &HashMap<String, Done>,
        persons: &HashMap<String, i64>,
    ) -> ProgramView {
        let kids = self.children(&p.program_code);
        let mut done = Done::default();
        for leaf in self.leaves(&p.program_code) {
            if let Some(d) = done_by_leaf.get(&leaf) {
                done.add(d);
            }
        }
        let parent = self.programs.iter().find(|x| Some(&x.program_code) == p.parent_code.as_ref());
        let responsible_src =
            if p.responsible.is_empty() { parent.map_or(&p.responsible, |x| &x.responsible) } else { &p.responsible };
        let (state, target, asked, note) = if kids.is_empty() {
            match p.target_value() {
                TargetValue::Set { value } => ("set", Some(value), vec![], None),
                TargetValue::Pending(x) => {
                    ("pending", None, x.asked.iter().map(|a| self.dept(a)).collect(), Some(x.province_note))
                }
                TargetValue::None => ("none", None, vec![], None),
            }
        } else {
            let sum: i64 = kids.iter().filter_map(|k| k.target).sum();
            let any_pending = kids.iter().any(|k| k.target.is_none() && k.pending_asked.is_some());
            (if any_pending { "partly_pending" } else { "set" }, Some(sum), vec![], None)
        };
        // A target in persons counts distinct people, one in person-times counts completions.
        let done_persons = (p.unit == "persons")
            .then(|| self.leaves(&p.program_code).iter().filter_map(|l| persons.get(l)).sum::<i64>());
        let counted = done_persons.unwrap_or(done.person_times);
        let done_permille = target.filter(|t| *t > 0).map(|t| counted * 1000 / t);
        let share_met = match (p.share_pct, done.share_permille) {
            (Some(req), Some(have)) => Some(have >= req * 10),
            _ => None,
        };
        ProgramView {
            code: p.program_code.clone(),
            parent: p.parent_code.clone(),
            name_zh: p.name_zh.clone(),
            name_en: p.name_en.clone(),
            unit: p.unit.clone(),
            target_state: state.into(),
            target,
            asked,
            province_note: note,
            share_pct: p.share_pct,
            done,
            done_persons,
            done_permille,
            share_met,
            responsible: responsible_src.split(',').filter(|s| !s.is_empty()).map(|c| self.dept(c)).collect(),
            lead_governments: p.lead_governments || parent.is_some_and(|x| x.lead_governments),
            clause: p.clause.clone(),
            quote: p.quote.clone(),
            note_zh: p.note_zh.clone(),
            note_en: p.note_en.clone(),
            leaf: kids.is_empty(),
        }
    }

    /// Whether a user may see a program: departments see the programs they are responsible
    /// for or asked about (and the sub-targets of those, and the parents of those).
    fn visible(&self, user: &User, code: &str) -> bool {
        if user.role != Role::Department {
            return true;
        }
        let dept = user.scope.as_deref().unwrap_or_default();
        let mine = |p: &ProgramRow| p.responsible_codes().contains(&dept) || p.asked_codes().contains(&dept);
        let Some(p) = self.programs.iter().find(|p| p.program_code == code) else {
            return false;
        };
        let parent = self.programs.iter().find(|x| Some(&x.program_code) == p.parent_code.as_ref());
        mine(p) || parent.is_some_and(mine) || self.children(code).into_iter().any(mine)
    }
}

fn done_map(rows: Vec<Counts>) -> HashMap<String, Done> {
    rows.iter().map(|c| (c.key.clone(), Done::from_counts(c))).collect()
}

/// The programs whose page the user may open (none: all of them).
pub async fn visible_programs(db: &Db, user: &User) -> Result<Option<Vec<String>>, AppError> {
    if user.role != Role::Department {
        return Ok(None);
    }
    let c = ctx(db).await?;
    Ok(Some(c.programs.iter().filter(|p| c.visible(user, &p.program_code)).map(|p| p.program_code.clone()).collect()))
}

/// The programs a user may see, as leaf codes (None = all).
pub async fn visible_leaf_programs(db: &Db, user: &User) -> Result<Option<Vec<String>>, AppError> {
    if user.role != Role::Department {
        return Ok(None);
    }
    let c = ctx(db).await?;
    Ok(Some(
        c.programs
            .iter()
            .filter(|p| c.visible(user, &p.program_code) && c.children(&p.program_code).is_empty())
            .map(|p| p.program_code.clone())
            .collect(),
    ))
}

/// The plan at a glance for this user.
pub async fn plan_overview(db: &Db, user: &User) -> Result<PlanOverview, AppError> {
    let c = ctx(db).await?;
    let header = plan::current_plan(db).await?.plan;
    let by_leaf = done_map(plan::counts(db, GroupBy::Program, None, None).await?);
    let persons = c.persons(db).await?;
    let mut total = Done::default();
    for d in by_leaf.values() {
        total.add(d);
    }
    let targets = plan::overall_targets(db)
        .await?
        .into_iter()
        .map(|t| {
            let counted = t.unit == "person_times";
            TargetView {
                done: counted.then_some(total.person_times),
                subsidised_done: t.subsidised.map(|_| total.subsidised),
                done_permille: (counted && t.value > 0).then(|| total.person_times * 1000 / t.value),
                subsidised_permille: t.subsidised.filter(|s| *s > 0).map(|s| total.subsidised * 1000 / s),
                subsidised_target: t.subsidised,
                id: t.target_id,
                name_zh: t.name_zh,
                name_en: t.name_en,
                unit: t.unit,
                value: t.value,
                clause: t.clause,
                quote: t.quote,
                note_zh: t.note_zh,
                note_en: t.note_en,
            }
        })
        .collect();
    // Parents first, each followed by its sub-targets.
    let mut programs = Vec::new();
    for p in c.programs.iter().filter(|p| p.parent_code.is_none()) {
        for q in std::iter::once(p).chain(c.children(&p.program_code)) {
            if c.visible(user, &q.program_code) {
                programs.push(c.view(q, &by_leaf, &persons));
            }
        }
    }
    Ok(PlanOverview {
        name_zh: header.name_zh,
        name_en: header.name_en,
        status_zh: header.status_zh,
        status_en: header.status_en,
        start: header.start.to_string(),
        end: header.end.to_string(),
        targets,
        programs,
    })
}

/// A bar of the home chart: a leaf program's progress toward its target.
#[derive(Debug, Serialize)]
pub struct ProgressBar {
    /// Program code.
    pub code: String,
    /// Program name.
    pub name_zh: String,
    /// Done, in percent of the target (one decimal); None when the target is pending or absent.
    pub percent: Option<f64>,
    /// Done (person-times, or persons for a target in persons).
    pub done: i64,
    /// The target, if set.
    pub target: Option<i64>,
    /// `persons` or `person_times`.
    pub unit: String,
}

/// The home chart's bars: every leaf program with a counted target, its progress in percent.
pub fn progress_bars(o: &PlanOverview) -> Vec<ProgressBar> {
    o.programs
        .iter()
        .filter(|p| p.leaf && p.unit != "none")
        .map(|p| ProgressBar {
            code: p.code.clone(),
            name_zh: p.name_zh.clone(),
            percent: p.done_permille.map(|m| m as f64 / 10.0),
            done: p.done_persons.unwrap_or(p.done.person_times),
            target: p.target,
            unit: p.unit.clone(),
        })
        .collect()
}

/// One program with its counties and months.
pub async fn program_detail(db: &Db, user: &User, code: &str) -> Result<ProgramDetail, AppError> {
    let c = ctx(db).await?;
    let row = c.programs.iter().find(|p| p.program_code == code).ok_or(AppError::NotFound)?;
    if !c.visible(user, code) {
        return Err(AppError::Forbidden);
    }
    let leaves = c.leaves(code);
    let county_filter = (user.role == Role::County).then(|| user.scope.clone().unwrap_or_default());
    let by_leaf = done_map(plan::counts(db, GroupBy::Program, Some(&leaves), None).await?);
    let persons = c.persons(db).await?;
    let program = c.view(row, &by_leaf, &persons);
    let children = c.children(code).into_iter().map(|k| c.view(k, &by_leaf, &persons)).collect();
    let county_counts = done_map(plan::counts(db, GroupBy::County, Some(&leaves), None).await?);
    let by_county = plan::counties(db)
        .await?
        .into_iter()
        .filter(|k| county_filter.as_ref().is_none_or(|f| *f == k.county_code))
        .map(|k| SliceView {
            done: county_counts.get(&k.county_code).cloned().unwrap_or_default(),
            key: k.county_code,
            label: k.name_zh,
        })
        .collect();
    let period = plan::current_plan(db).await?.plan;
    let by_month = plan::counts(db, GroupBy::Month, Some(&leaves), county_filter.as_deref()).await?;
    let by_month = plan::every_month(by_month, period.start, period.end)
        .into_iter()
        .map(|m| SliceView { label: month_label(&m.key), done: Done::from_counts(&m), key: m.key })
        .collect();
    let target_changes = plan::target_changes(db, code)
        .await?
        .into_iter()
        .map(|t| TargetChangeView {
            old_target: t.old_target,
            new_target: t.new_target,
            reason: t.reason,
            changed_by: t.changed_by,
            changed_at: t.changed_at.to_rfc3339(),
        })
        .collect();
    Ok(ProgramDetail { program, children, by_county, by_month, target_changes })
}

fn month_label(key: &str) -> String {
    match key.split_once('-') {
        Some((y, m)) => format!("{y}年{}月", m.trim_start_matches('0')),
        None => key.to_owned(),
    }
}

/// One county with its programs.
pub async fn county_detail(db: &Db, user: &User, code: &str) -> Result<CountyDetail, AppError> {
    if user.role == Role::County && user.scope.as_deref() != Some(code) {
        return Err(AppError::Forbidden);
    }
    let county = plan::counties(db).await?.into_iter().find(|k| k.county_code == code).ok_or(AppError::NotFound)?;
    let c = ctx(db).await?;
    let by_leaf = done_map(plan::counts(db, GroupBy::Program, None, Some(code)).await?);
    let mut total = Done::default();
    let mut programs = Vec::new();
    for p in &c.programs {
        if !c.visible(user, &p.program_code) {
            continue;
        }
        let mut d = Done::default();
        for leaf in c.leaves(&p.program_code) {
            if let Some(x) = by_leaf.get(&leaf) {
                d.add(x);
            }
        }
        if c.children(&p.program_code).is_empty() {
            total.add(&d);
        }
        programs.push(SliceView { key: p.program_code.clone(), label: p.name_zh.clone(), done: d });
    }
    Ok(CountyDetail { code: county.county_code, name_zh: county.name_zh, name_en: county.name_en, total, programs })
}

/// Which people a user may see.
pub fn people_visibility(user: &User) -> Result<Visibility, AppError> {
    Ok(match user.role {
        Role::CityAdmin | Role::Auditor => Visibility::default(),
        Role::County => {
            Visibility { county: Some(user.scope.clone().ok_or(AppError::Forbidden)?), ..Default::default() }
        }
        Role::Provider => {
            Visibility { provider_id: Some(user.scope_id().ok_or(AppError::Forbidden)?), ..Default::default() }
        }
        Role::Worker => {
            Visibility { person_id: Some(user.scope_id().ok_or(AppError::Forbidden)?), ..Default::default() }
        }
        _ => return Err(AppError::Forbidden),
    })
}

/// Which classes a user may see.
pub async fn class_scope(db: &Db, user: &User) -> Result<ClassScope, AppError> {
    Ok(match user.role {
        Role::CityAdmin | Role::Auditor => ClassScope::default(),
        // An assessment body sees the classes it assesses: those that name it (and classes from
        // before classes named one), with their rosters; no other class.
        Role::AssessmentBody => {
            ClassScope { assessment_body_id: Some(user.scope_id().ok_or(AppError::Forbidden)?), ..Default::default() }
        }
        Role::County => {
            ClassScope { county: Some(user.scope.clone().ok_or(AppError::Forbidden)?), ..Default::default() }
        }
        Role::Provider => {
            ClassScope { provider_id: Some(user.scope_id().ok_or(AppError::Forbidden)?), ..Default::default() }
        }
        Role::Department => ClassScope { programs: visible_leaf_programs(db, user).await?, ..Default::default() },
        _ => return Err(AppError::Forbidden),
    })
}

/// The county a user is limited to for organisations (None = all).
pub fn org_county(user: &User) -> Option<String> {
    (user.role == Role::County).then(|| user.scope.clone().unwrap_or_default())
}

/// A county office works only in its own county.
pub fn check_county(u: &User, county: &str) -> Result<(), AppError> {
    if u.role == Role::County && u.scope.as_deref() != Some(county) {
        return Err(AppError::Forbidden);
    }
    Ok(())
}

/// The counties a form offers (a county office: its own) and the priority groups.
pub fn form_choices(st_counties: &[plan::CountyRow], u: &jineng_store::users::User) -> Value {
    let counties: Vec<_> =
        st_counties.iter().filter(|c| u.role != Role::County || u.scope.as_deref() == Some(&c.county_code)).collect();
    let groups: Vec<_> = PriorityGroup::ALL.iter().map(|g| (g.code(), g.zh(), g.en())).collect();
    context! { counties => Value::from_serialize(&counties), groups => Value::from_serialize(&groups) }
}

/// Chinese name of a claim kind (its code if unknown).
pub fn kind_zh(kind: &str) -> &'static str {
    ClaimKind::parse(kind).map(ClaimKind::zh).unwrap_or("其他")
}

/// A fund's Chinese name.
pub fn fund_zh(code: &str) -> &str {
    match code {
        "unemployment_insurance_fund" => "失业保险基金",
        "employment_subsidy_fund" => "就业补助资金",
        other => other,
    }
}

/// A claim as pages show it: labels, payee and the decision's reasons, clauses and parameters.
/// What the policy engine found, in words that cannot be read as the county's approval: the
/// county's review is the claim's status (待审核, 已审核待公示, …).
pub fn outcome_zh(code: &str) -> &'static str {
    match code {
        "approved" => "符合政策",
        "reduced" => "符合政策（金额核减）",
        "recover" => "应追回",
        _ => "不符合政策",
    }
}

pub fn claim_view(r: &ClaimRow) -> Json_ {
    let decision: Json_ = serde_json::from_str(&r.decision).unwrap_or_default();
    let status = ClaimStatus::parse(&r.status);
    json!({"claim_id": r.claim_id, "kind": r.kind, "kind_zh": kind_zh(&r.kind), "person_name": r.person_name, "payee_name": r.payee_name,
           "filed_on": r.filed_on, "status": r.status, "status_zh": status.map(|s| s.zh()), "status_en": status.map(|s| s.en()),
           "outcome": r.outcome, "amount_fen": r.amount_fen, "payee": serde_json::from_str::<Json_>(&r.payee).unwrap_or_default(),
           "fund": r.fund, "reasons": decision["reasons"], "clauses": decision["clauses"], "parameters": decision["parameters"],
           "notice_from": r.notice_from, "notice_until": r.notice_until, "open_objections": r.open_objections, "county_code": r.county_code,
           "held_for": r.held_for.as_deref().and_then(|h| serde_json::from_str::<Json_>(h).ok()).filter(|_| r.status == "needs_verification")})
}

/// The subsidies of one person (their electronic record), as the caller may see them: a
/// provider sees only its own claims among them.
pub async fn subsidies_of(db: &Db, person_id: i64, u: &User) -> Result<Vec<Json_>, AppError> {
    let provider_id = (u.role == Role::Provider).then(|| u.scope_id().unwrap_or(-1));
    let scope = ClaimScope { person_id: Some(person_id), provider_id, ..Default::default() };
    Ok(claims::list(db, &scope, None, 1000).await?.iter().map(claim_view).collect())
}

/// A parameter with its history, as listed.
#[derive(Serialize, ToSchema)]
pub struct ParameterView {
    /// Dotted key.
    pub key: String,
    /// Chinese name.
    pub name_zh: String,
    pub unit: String,
    /// Fixed by the plan (the city cannot change it).
    pub fixed_by_plan: bool,
    /// The value in force today.
    pub in_force: i64,
    /// Every value with the date it takes effect and its source, oldest first.
    pub versions: Vec<VersionView>,
}

/// One value of a parameter.
#[derive(Serialize, ToSchema)]
pub struct VersionView {
    /// First day in force.
    pub from: String,
    pub value: i64,
    pub source: String,
    /// In force today.
    pub current: bool,
    /// Takes effect in the future.
    pub scheduled: bool,
}

/// Every parameter with its values, effective dates and sources, as of `today` (also shown on the
/// public column).
pub fn parameter_views(params: &jineng_policy::Params, today: chrono::NaiveDate) -> Vec<ParameterView> {
    params
        .all()
        .iter()
        .map(|p| {
            let current = params.version(p.key, today).from;
            ParameterView {
                key: p.key.name().into(),
                name_zh: p.name_zh.clone(),
                unit: p.unit.clone(),
                fixed_by_plan: p.fixed_by_plan,
                in_force: params.version(p.key, today).value,
                versions: p
                    .versions
                    .iter()
                    .map(|v| VersionView {
                        from: v.from.to_string(),
                        value: v.value,
                        source: v.source.to_string(),
                        current: v.from == current,
                        scheduled: v.from > today,
                    })
                    .collect(),
            }
        })
        .collect()
}
