//! Which key combinations the kiosk swallows while the exam runs (the
//! Windows low-level keyboard hook asks this for every key press). Pure, so
//! it is tested on every platform.

/// Windows virtual-key codes the decision needs.
pub mod vk {
    /// Tab.
    pub const TAB: u32 = 0x09;
    /// Escape.
    pub const ESCAPE: u32 = 0x1B;
    /// Left Windows key.
    pub const LWIN: u32 = 0x5B;
    /// Right Windows key.
    pub const RWIN: u32 = 0x5C;
    /// The Applications (context menu) key.
    pub const APPS: u32 = 0x5D;
    /// F4 (Alt+F4 closes windows).
    pub const F4: u32 = 0x73;
}

/// Modifier state at the moment of a key press.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Modifiers {
    /// Alt is held.
    pub alt: bool,
    /// Ctrl is held.
    pub ctrl: bool,
}

/// Why a key press is swallowed, or `None` to let it through.
pub fn blocked(vk_code: u32, modifiers: Modifiers) -> Option<&'static str> {
    match vk_code {
        vk::LWIN | vk::RWIN => Some("Windows key (Start, Win+D, Win+Tab, ...)"),
        vk::TAB if modifiers.alt => Some("Alt+Tab (switch windows)"),
        vk::ESCAPE if modifiers.alt => Some("Alt+Esc (cycle windows)"),
        vk::ESCAPE if modifiers.ctrl => Some("Ctrl+Esc (Start menu)"),
        vk::F4 if modifiers.alt => Some("Alt+F4 (close the kiosk)"),
        vk::APPS => Some("Applications key"),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn switching_keys_are_swallowed_and_typing_is_not() {
        let alt = Modifiers { alt: true, ctrl: false };
        let ctrl = Modifiers { alt: false, ctrl: true };
        let none = Modifiers::default();
        assert!(blocked(vk::TAB, alt).is_some());
        assert!(blocked(vk::ESCAPE, alt).is_some());
        assert!(blocked(vk::ESCAPE, ctrl).is_some());
        assert!(blocked(vk::LWIN, none).is_some());
        assert!(blocked(vk::RWIN, none).is_some());
        assert!(blocked(vk::F4, alt).is_some());
        // Tab, Escape and Ctrl+Tab stay usable: keyboard-only students need them.
        assert_eq!(blocked(vk::TAB, none), None);
        assert_eq!(blocked(vk::TAB, ctrl), None);
        assert_eq!(blocked(vk::ESCAPE, none), None);
        assert_eq!(blocked(u32::from(b'A'), alt), None);
        assert_eq!(blocked(vk::F4, none), None);
    }
}
