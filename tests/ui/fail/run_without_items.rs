use sekoia_automation::Module;

fn main() {
    let _ = Module::<()>::new().run();
}
