//! Skill levels (职业技能等级): 5 (初级工, entry) … 1 (高级技师, highest).

use crate::Invalid;
use serde::{Deserialize, Serialize};

/// A skill level from 1 (highest) to 5 (entry).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "u8", into = "u8")]
pub struct SkillLevel(u8);

impl SkillLevel {
    /// Parses 1–5.
    pub fn new(level: u8) -> Result<Self, Invalid> {
        if (1..=5).contains(&level) {
            Ok(Self(level))
        } else {
            Err(Invalid::new("skill_level.range", "技能等级应为1–5级", "a skill level is 1 to 5"))
        }
    }

    /// The level number.
    pub fn get(self) -> u8 {
        self.0
    }

    /// High-skilled (高技能人才): level 3 (高级工) or above.
    pub fn is_high_skilled(self) -> bool {
        self.0 <= 3
    }

    /// Chinese name, e.g. `三级/高级工`.
    pub fn zh(self) -> &'static str {
        ["一级/高级技师", "二级/技师", "三级/高级工", "四级/中级工", "五级/初级工"][self.0 as usize - 1]
    }

    /// English name.
    pub fn en(self) -> &'static str {
        [
            "Level 1 senior technician",
            "Level 2 technician",
            "Level 3 senior worker",
            "Level 4 intermediate worker",
            "Level 5 entry worker",
        ][self.0 as usize - 1]
    }
}

impl TryFrom<u8> for SkillLevel {
    type Error = Invalid;
    fn try_from(v: u8) -> Result<Self, Invalid> {
        Self::new(v)
    }
}

impl From<SkillLevel> for u8 {
    fn from(l: SkillLevel) -> u8 {
        l.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn levels_one_to_three_are_high_skilled() {
        assert!(SkillLevel::new(3).unwrap().is_high_skilled());
        assert!(!SkillLevel::new(4).unwrap().is_high_skilled());
        assert_eq!(SkillLevel::new(0).unwrap_err().code, "skill_level.range");
        assert_eq!(SkillLevel::new(6).unwrap_err().code, "skill_level.range");
        assert_eq!(SkillLevel::new(5).unwrap().zh(), "五级/初级工");
    }
}
