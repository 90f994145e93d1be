fn main() {
    let path = std::env::args().nth(1).unwrap();
    let (p, d) = routerc::source::load(std::path::Path::new(&path), &routerc::source::FileSystem);
    println!("{:#?}", p.files[0].ast.items.len());
    for x in d.items { println!("{} {} {:?} {}", x.code.id, x.message, x.span, x.label); }
}
