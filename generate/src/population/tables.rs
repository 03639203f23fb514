//! The tables: given and family names with skewed frequencies, postcode
//! areas and their regions, nicknames, National Insurance prefixes; built once.

use std::collections::HashMap;
use std::hash::BuildHasherDefault;
use std::sync::OnceLock;

use pprl_specs::normalise::Sex;
use pprl_specs::normalise::name::NICKNAMES;

use crate::rng::Rng;

/// Given names of men, commonest first (men born in the UK 1950–2006, with
/// the names of its larger minorities).
const MALE_NAMES: &str = "
David John Michael Paul Mark Andrew James Richard Robert Stephen Christopher
Daniel Peter Thomas Anthony Simon Matthew Gary Kevin Darren Lee Craig Ian
Martin Steven Neil Jonathan William Alan Dean Wayne Jason Brian Philip Colin
Keith Graham Adam Ryan Liam Jamie Benjamin Samuel Joseph Nicholas Scott Shaun
Carl Stuart Jack Luke Kieran Jordan Connor Callum Nathan Lewis Aaron Ashley
Jake Kyle Joshua George Edward Harry Charles Alexander Oliver Henry Patrick
Sean Barry Terence Raymond Kenneth Gordon Trevor Derek Malcolm Roger Geoffrey
Leslie Dennis Frank Roy Clive Nigel Russell Glen Tony Danny Karl Robin Gareth
Rhys Owen Dylan Gavin Justin Marcus Jeremy Howard Lloyd Leon Damien Dominic
Elliot Reece Jay Alfie Charlie Archie Harvey Mason Ethan Tyler Bradley Billy
Jacob Louis Max Toby Joel Harrison Cameron Kai Jayden Declan Conor Ciaran Niall
Brendan Euan Fraser Ross Grant Duncan Hamish Angus Alistair Iain Gregor Murray
Ewan Rory Muhammad Mohammed Mohammad Ali Ahmed Hassan Hussain Imran Adnan
Kamran Tariq Zain Bilal Usman Omar Yusuf Ibrahim Abdul Amir Arjun Rajesh Sanjay
Vijay Ravi Sunil Deepak Amit Kwame Kofi Emeka Chinedu Tunde Jerome Delroy
Winston Marlon Tyrone Dwayne Curtis Leroy Clinton Everton Errol Piotr Paweł
Tomasz Krzysztof Marek Łukasz Andrzej Adrian Florin Ionuț Mihai Bogdan Gheorghe
Vasile Dariusz Jan Seán Ciarán Dónal Pádraig Oisín Eoin Cathal Fergus Francis
Gerard Bernard Desmond Donald Douglas Reginald Ronald Leonard Lawrence Gregory
Jeffrey Timothy Clifford Frederick Abraham Alfred Albert Arthur Walter Harold
Ernest Stanley Norman Victor Cyril Eric Sidney Herbert Wilfred Vincent Eugene
Maurice Gilbert Stewart Rodney Melvin Dale Warren Troy Brett Kirk Neville Garry
Elliott Ricky Mitchell Jasper Felix Theo Oscar Isaac Leo Noah Logan Reuben
Ellis Freddie Tommy Bobby Frankie Louie Joe Gerald Julian Guy Rupert Hugh Giles
Miles Jon Nathaniel Zachary Terry Alex Ben Sam Tom Dan Mike Chris Nick Matt
Jim Steve Phil Ken Josh Adil Asif Faisal Nadeem Shahid Waqas Zubair Haroon
Rashid Sajid Jamal Kareem Rahim Kadeem Jermaine Leonardo Marco Luca Antonio
Giuseppe Carlos José Miguel Pedro João Rui Tiago Mehmet Mustafa Emre Kemal Ahmet
Darius Aleksander Dawid Kacper Jakub Szymon Mateusz Bartosz Radu Cristian
Nicolae Ștefan Alin Valentin Costel Aidan Brandon Shane Wesley Byron Ashton
Spencer Bailey Jenson Ronnie Stevie Lenny Kenny Eddie Ted Alec Bert Stan Vic
Les Reg Rod Barrie Derrick Roland Lionel Cecil Percy Horace Clarence Edmund
Gideon Simeon Ezra Elijah Caleb Isaiah Levi Reggie Dexter Milo Rowan Finley
Riley Morgan Evan Ieuan Gethin Dafydd Iwan Emyr Aled Huw Cai Llŷr Bryn Gwyn
Idris Tudor Rhodri Steffan Kelvin Lewin Ashraf Nasir Saif Tahir Zafar Arif
";

/// Given names of women, commonest first.
const FEMALE_NAMES: &str = "
Susan Sarah Karen Julie Elizabeth Claire Nicola Lisa Emma Michelle Joanne Helen
Amanda Jennifer Rachel Kelly Louise Laura Samantha Deborah Jacqueline Tracey
Donna Dawn Angela Alison Margaret Patricia Linda Christine Caroline Catherine
Katherine Gemma Hayley Stacey Natalie Victoria Jessica Rebecca Charlotte Hannah
Amy Sophie Chloe Lauren Danielle Jade Leanne Kirsty Stephanie Zoe Amber Megan
Holly Rachael Jodie Kerry Kim Sharon Tracy Paula Mandy Carol Janet Jane Ann
Anne Mary Pauline Maureen Sandra Beverley Diane Gillian Lesley Lorraine Wendy
Yvonne Jean Barbara Brenda Sheila Valerie Joan Irene Doreen Shirley Sylvia
Marion Heather Fiona Kathryn Kathleen Teresa Theresa Bernadette Siobhan Niamh
Aoife Ciara Roisin Orla Sinead Grainne Bethan Ffion Cerys Rhiannon Seren Carys
Eleri Gwen Charlene Chantelle Shannon Jasmine Courtney Paige Kayleigh Aisha
Fatima Ayesha Amina Zainab Maryam Nadia Samira Yasmin Shabnam Nazia Rukhsana
Parveen Shazia Priya Anita Sunita Kiran Meena Pooja Neha Asha Gurpreet Harpreet
Manpreet Simran Agnieszka Katarzyna Anna Magdalena Joanna Ewa Monika Alina Ioana
Elena Maria Andreea Grace Olivia Amelia Isla Ava Emily Sophia Mia Poppy Ella
Lily Evie Isabella Ivy Freya Harper Willow Ruby Millie Daisy Phoebe Scarlett
Eva Erin Abigail Lucy Leah Eleanor Alice Imogen Georgia Bethany Ellie Katie
Zoë Siobhán Róisín Chloë Renée Sinéad Gráinne Áine Caoimhe Aisling Mairead
Bríd Eimear Nuala Deirdre Colette Annette Jeanette Lynne Elaine Denise Janice
Marie Rosemary Judith Pamela Constance Abbie Debra Jill Ruth Hazel Joyce Beryl
Gloria Hilda Edna Vera Glenys Olwen Myfanwy Nerys Sian Sioned Lowri Nia Catrin
Elin Mari Haf Leona Tamsin Tara Toni Vicky Verity Vanessa Ursula Tina Terri
Tanya Suzanne Stella Sonia Shelley Selina Rosie Rosa Rita Pippa Penny Naomi
Nina Miriam Melanie Maxine Marilyn Lydia Lorna Lindsey Kirsten Kate Julia
Josephine Jenny Jayne Janine Harriet Gina Frances Faye Eve Esther Clare Cheryl
Carla Bridget Beth Becky Audrey Antonia Alexandra Adele Abby Zara Yvette Violet
Tilly Summer Sienna Robyn Rebekah Precious Patience Nicole Maisie Lola Layla
Keira Kayla Hollie Gabrielle Francesca Evelyn Eloise Demi Darcy Connie Chelsea
Caitlin Brooke Bella Ashleigh April Anya Angel Amira Alicia Abimbola Adaeze
Chidinma Ngozi Funmilayo Ama Akua Efua Abena Esi Halima Hodan Ifrah Sahra
Hamida Shamima Taslima Rubina Nasreen Salma Farah Hina Sana Iqra Mehwish Rabia
Saima Sadia Uzma Jasvir Kulwinder Rajinder Sukhjinder Balwinder Amrit Navdeep
Ritu Shalini Deepa Lakshmi Kavita Rekha Bianca Daria Oana Roxana Irina Natalia
Aleksandra Dorota Beata Justyna Paulina Marta Kinga Weronika Zuzanna
";

/// Family names, commonest first (`_` stands for a space).
const FAMILY_NAMES: &str = "
Smith Jones Williams Taylor Brown Davies Evans Wilson Thomas Johnson Roberts
Robinson Thompson Wright Walker White Edwards Hughes Green Hall Lewis Harris
Clarke Patel Jackson Wood Turner Martin Cooper Hill Ward Morris Moore Clark Lee
King Baker Harrison Morgan Allen James Scott Phillips Watson Davis Parker Price
Bennett Young Griffiths Mitchell Kelly Cook Carter Richardson Bailey Collins
Bell Shaw Murphy Miller Cox Richards Khan Marshall Anderson Simpson Ellis Adams
Singh Begum Wilkinson Foster Chapman Powell Webb Rogers Gray Mason Ali Hunt
Hussain Campbell Matthews Owen Palmer Holmes Mills Barnes Knight Lloyd Butler
Russell Barker Fisher Stevens Jenkins Murray Dixon Harvey Graham Pearson Ahmed
Fletcher Walsh Kaur Gibson Howard Andrews Stewart Elliott Reynolds Saunders
Payne Fox Ford Pearce Day Brooks West Lawrence Cole Atkinson Bradley Spencer
Gill Dawson Ball Burton O'Brien Watts Rose Booth Perry Ryan Grant Wells
Armstrong Francis Rees Hayes Hart Hudson Newman Barrett Webster Hunter Gregory
Carr Lowe Page Marsh Riley Dunn Woods Parsons Berry Stone Reid Holland Hawkins
Harding Porter Robertson Newton Oliver Reed Kennedy Williamson Bird Gardner Shah
Dean Lane Cooke Bates Henderson Parry Burgess Bishop Walton Burns Nicholson
Shepherd Ross Cross Long Freeman Warren Nicholls Hamilton Byrne Sutton McDonald
Yates Hodgson Robson Curtis Hopkins O'Connor Harper Coleman Watkins Moss
McCarthy Chambers O'Neill Griffin Sharp Hardy Wheeler Potter Osborne Johnston
Gordon Doyle Wallace George Jordan Hutchinson Rowe Burke May Pritchard Gilbert
Willis Higgins Read Miles Stevenson Stephenson Hammond Arnold Buckley Walters
Hewitt Barber Nelson Slater Austin Sullivan Whitehead Mann Frost Lambert
Stephens Blake Akhtar Lynch Goodwin Barton Woodward Thomson Cunningham Quinn
Barnett Baxter Bibi Clayton Nash Greenwood Jennings Holt Kemp Poole Gallagher
Bond Stokes Tucker Davidson Fowler Heath Norman Middleton Lawson Banks French
Stanley Jarvis Gibbs Ferguson Hayward Carroll Douglas Dickinson Todd Barlow
Peters Lucas Knowles Hartley Miah Simmons Morrison Benson Farrell Sharpe Hobbs
Chandler Steele Iqbal Fraser Lord Hanson Townsend Farmer Rahman Islam Uddin
Hassan Malik Mohammed Chaudhry Sharma Kumar Mistry Parmar Chauhan Gupta Rana
Sandhu Dhillon Bains Sidhu Butt Javed Rehman Aziz Anwar Bashir Raza Saleem Latif
Qureshi Mirza Nawaz Hanif Zaman Mahmood Okafor Adeyemi Mensah Owusu Asante
Boateng Osei Ogunleye Adebayo Okonkwo Eze Mohamed Abdi Warsame Farah Gayle
McKenzie Samuels Mullings Forbes Nowak Kowalski Wiśniewski Wójcik Kamiński
Lewandowski Zieliński Szymański Kozłowski Mazur Popescu Ionescu Popa Dumitru
Stan Stoica Gheorghe Rusu Munteanu Constantin Da_Silva Santos Ferreira Rodrigues
Costa Pereira Yılmaz Nguyen Tran Chen Wang Li Zhang Müller Ødegård Van_der_Berg
De_Souza D'Souza D'Costa St_John Le_Roux Llewellyn Pugh Vaughan Howells Bowen
Prosser Jenkin Meredith Lloyd-Jones MacLeod MacKenzie MacDonald McLean
Fitzgerald O'Sullivan Kavanagh Doherty Brennan Flynn Nolan Duffy Regan Daly
Connolly McKenna O'Reilly O'Donnell McLaughlin McGuinness Maguire Donnelly
Hughes-Jones Gillespie Fitzpatrick Brady Keane Whelan Sweeney Hegarty Boyle
Devlin Dolan Lyons Moran Power Cullen Rooney Ward-Smith Abbott Ainsworth Aldridge
Archer Ashton Atherton Bamford Barnard Bentley Birch Blackburn Blackwell Bolton
Bradshaw Brookes Buckingham Bull Burrows Butcher Cartwright Chadwick Cole-Hamilton
Coates Connor Crawford Crowther Dale Dalton Dennis Dobson Draper Duncan Dyer
Eaton Ellison Emery Fairclough Farrow Fenton Field Finch Firth Fleming Flint
Forrest Garner Gates Gough Goulding Greaves Hale Hancock Hargreaves Haynes
Hemmings Hicks Hilton Hirst Holden Hollis Hope Horton Howe Hurst Ingram Jacobs
Kay Kerr Kirby Kirk Lamb Lancaster Lang Leach Lees Lister Little Lomax Lowry
Lucas-Tooth Mace Mather Metcalfe Millar Moody Mooney Morley Moss-Bell Naylor
Noble Norris Nuttall Oakley Ogden Orton Pace Parkin Peacock Pickering Platt
Pollard Pope Preston Quigley Rhodes Rigby Roach Rowley Russo Sanderson Shields
Short Skinner Smart Sparks Storey Summers Swift Tate Thornton Tomlinson Tyler
Underwood Vickers Wade Wainwright Wall Walsh-Murphy Warner Waters Weaver Whittaker
Wilde Winter Wolfe Worthington Wyatt Yeung Zielinska Baird Bain Cairns Christie
Ferris Galloway Hendry Lindsay Mackay Munro Paterson Ritchie Sinclair Sutherland
";

/// The long tail of rarer English family names: every prefix with every suffix.
const RARE_PREFIXES: &str = "Ash Black Brad Brook Cal Chad Clay Cold Crom Dar Ed
Fair Farn Gold Ham Hat Hol Kings Lang Lock Mar Mid Mor Nor Ox Pen Red Rid Ros
Ship Stan Stock Thorn War Whit Wil Wind Wor Brom Hather Shel Knot Pil Bur Cran
Dun Ever Sum Win Ather Ing Mel Ott Tad Bex Cas Dew Elm Har";
const RARE_SUFFIXES: &str = "ton ley worth field ford by ham well wood more stone
bury hurst dale den wick combe shaw thorpe land brook cliffe borough cott ridge
stead ling er man son";

/// Nicknames and short forms that the spec's table (§4.2.5) deliberately
/// leaves out, so a linker cannot recover the formal name from them.
const EXTRA_NICKNAMES: &[(&str, &str)] = &[
    ("James", "Jamie"),
    ("John", "Jack"),
    ("Henry", "Harry"),
    ("Charles", "Charlie"),
    ("Alexander", "Alec"),
    ("William", "Liam"),
    ("Terence", "Terry"),
    ("Patrick", "Pat"),
    ("Alan", "Al"),
    ("Albert", "Bert"),
    ("Frances", "Fran"),
    ("Joanne", "Jo"),
    ("Gary", "Gaz"),
    ("Darren", "Daz"),
    ("Kevin", "Kev"),
    ("Mohammed", "Mo"),
    ("Muhammad", "Mo"),
    ("Christine", "Chris"),
    ("Samantha", "Sam"),
    ("Alexandra", "Alex"),
    ("Nathan", "Nate"),
    ("Zachary", "Zac"),
    ("Victoria", "Tori"),
    ("Jonathan", "Jon"),
    ("Nicola", "Nikki"),
    ("Stephanie", "Steph"),
    ("Jacqueline", "Jackie"),
    ("Barry", "Baz"),
    ("Sharon", "Shaz"),
    ("Andrew", "Drew"),
    ("Anthony", "Ant"),
    ("Raymond", "Ray"),
    ("Stuart", "Stew"),
    ("Gareth", "Gaz"),
];

/// Postcode areas of England and Wales: the area, its districts (numeric
/// ranges, or whole outward codes), a weight (roughly population) and the region.
const AREAS: &[(&str, &str, u64, &str)] = &[
    ("E", "1-18", 30, "London"),
    ("N", "1-22", 25, "London"),
    ("NW", "1-11", 15, "London"),
    ("SE", "1-28", 30, "London"),
    ("SW", "2-20", 25, "London"),
    ("W", "2-14", 15, "London"),
    (
        "",
        "SW1A SW1P SW1V SW1W SW1X SW1Y W1D W1F W1G W1H W1K W1T W1U W1W WC1A WC1B WC1E WC1H WC1N \
         WC1X WC2A WC2B WC2E WC2H WC2N EC1A EC1M EC1N EC1R EC1V EC1Y EC2A EC2M EC3A EC4A E1W N1C",
        8,
        "London",
    ),
    ("BR", "1-8", 6, "London"),
    ("CR", "0 2-8", 8, "London"),
    ("DA", "1-18", 10, "London"),
    ("EN", "1-11", 8, "London"),
    ("HA", "0-9", 9, "London"),
    ("IG", "1-11", 8, "London"),
    ("KT", "1-24", 10, "London"),
    ("RM", "1-20", 10, "London"),
    ("SM", "1-7", 5, "London"),
    ("TW", "1-20", 10, "London"),
    ("UB", "1-11", 9, "London"),
    ("WD", "3-7 17-19 23-25", 6, "East of England"),
    ("M", "1-35 38 40-46 50", 40, "North West"),
    ("L", "1-40", 30, "North West"),
    ("WA", "1-16", 12, "North West"),
    ("WN", "1-8", 8, "North West"),
    ("BL", "0-9", 8, "North West"),
    ("OL", "1-16", 12, "North West"),
    ("SK", "1-17 22-23", 14, "North West"),
    ("PR", "1-9 25-26", 10, "North West"),
    ("BB", "1-12 18", 9, "North West"),
    ("FY", "1-8", 7, "North West"),
    ("LA", "1-23", 6, "North West"),
    ("CA", "1-28", 6, "North West"),
    ("CH", "1-8 41-49 60-66", 10, "North West"),
    ("CW", "1-12", 7, "North West"),
    ("NE", "1-13 15-49 61-66", 25, "North East"),
    ("SR", "1-8", 6, "North East"),
    ("DH", "1-9", 6, "North East"),
    ("DL", "1-17", 7, "North East"),
    ("TS", "1-29", 12, "North East"),
    ("LS", "1-29", 22, "Yorkshire and the Humber"),
    ("BD", "1-24", 15, "Yorkshire and the Humber"),
    ("HX", "1-7", 4, "Yorkshire and the Humber"),
    ("HD", "1-9", 6, "Yorkshire and the Humber"),
    ("WF", "1-17", 10, "Yorkshire and the Humber"),
    (
        "S",
        "1-36 40-45 60-66 70-75 80-81",
        25,
        "Yorkshire and the Humber",
    ),
    ("DN", "1-22 31-41", 15, "Yorkshire and the Humber"),
    ("HU", "1-20", 9, "Yorkshire and the Humber"),
    (
        "YO",
        "1 7-8 10-26 30-32 41-43 51 60-62",
        10,
        "Yorkshire and the Humber",
    ),
    ("HG", "1-5", 3, "Yorkshire and the Humber"),
    ("B", "1-50 60-80 90-98", 45, "West Midlands"),
    ("CV", "1-13 21-23 31-37 47", 12, "West Midlands"),
    ("WV", "1-16", 9, "West Midlands"),
    ("WS", "1-15", 9, "West Midlands"),
    ("DY", "1-14", 8, "West Midlands"),
    ("ST", "1-21", 12, "West Midlands"),
    ("TF", "1-13", 5, "West Midlands"),
    ("WR", "1-15", 6, "West Midlands"),
    ("HR", "1-9", 3, "West Midlands"),
    ("SY", "1-25", 5, "West Midlands"),
    ("DE", "1-24 45 55-56 65 72-75", 12, "East Midlands"),
    ("NG", "1-25 31-34", 15, "East Midlands"),
    ("LE", "1-19 65-67", 14, "East Midlands"),
    ("NN", "1-18 29", 10, "East Midlands"),
    ("LN", "1-13", 6, "East Midlands"),
    ("NR", "1-35", 9, "East of England"),
    ("IP", "1-33", 9, "East of England"),
    ("CB", "1-11 21-25", 8, "East of England"),
    ("PE", "1-38", 15, "East of England"),
    ("CO", "1-16", 8, "East of England"),
    ("CM", "0-24 77", 12, "East of England"),
    ("SS", "0-17", 10, "East of England"),
    ("LU", "1-7", 7, "East of England"),
    ("SG", "1-19", 8, "East of England"),
    ("AL", "1-10", 5, "East of England"),
    ("MK", "1-19 40-46", 9, "South East"),
    ("BN", "1-27 41-45", 14, "South East"),
    ("RH", "1-20", 10, "South East"),
    ("GU", "1-35 46-52", 14, "South East"),
    ("ME", "1-20", 12, "South East"),
    ("CT", "1-21", 8, "South East"),
    ("TN", "1-40", 12, "South East"),
    ("OX", "1-20 25-29 33 39 44 49", 10, "South East"),
    ("RG", "1-42 45", 16, "South East"),
    ("SL", "0-9", 7, "South East"),
    ("PO", "1-22 30-41", 14, "South East"),
    ("SO", "14-53", 14, "South East"),
    ("HP", "1-23 27", 9, "South East"),
    ("BS", "1-16 20-41 48-49", 18, "South West"),
    ("BA", "1-16 20-22", 7, "South West"),
    ("EX", "1-24 31-39", 10, "South West"),
    ("PL", "1-35", 9, "South West"),
    ("TQ", "1-14", 6, "South West"),
    ("TR", "1-27", 6, "South West"),
    ("TA", "1-24", 7, "South West"),
    ("BH", "1-25 31", 10, "South West"),
    ("DT", "1-11", 4, "South West"),
    ("SP", "1-11", 4, "South West"),
    ("SN", "1-16 25-26", 8, "South West"),
    ("GL", "1-20 50-56", 10, "South West"),
    ("CF", "3 5 10-24 31-48 61-64 71-72 81-83", 14, "Wales"),
    ("SA", "1-20 31-48 61-73", 10, "Wales"),
    ("NP", "4 7-8 10-13 15-16 18-20 22-26 44", 8, "Wales"),
    ("LL", "11-78", 10, "Wales"),
    ("LD", "1-8", 1, "Wales"),
];

/// Names sampled with frequencies that fall with rank (weight `C / (rank + offset)`).
pub(super) struct Ranked {
    pub(super) items: Vec<&'static str>,
    pub(super) cumulative: Vec<u64>,
}

impl Ranked {
    /// Splits `text` at white space (`_` reads as a space), dropping repeats.
    fn new(text: &'static str, offset: u64) -> Self {
        let mut items: Vec<&'static str> = Vec::new();
        for word in text.split_whitespace() {
            if !items.contains(&word) {
                items.push(word);
            }
        }
        Self::weighted(items, offset)
    }

    fn weighted(items: Vec<&'static str>, offset: u64) -> Self {
        let mut total = 0;
        let cumulative = (0..items.len() as u64)
            .map(|rank| {
                total += 10_000_000 / (rank + 1 + offset);
                total
            })
            .collect();
        Ranked { items, cumulative }
    }

    pub(super) fn sample(&self, rng: &mut Rng) -> &'static str {
        let total = *self.cumulative.last().expect("name lists are not empty");
        let x = rng.below(total);
        self.items[self.cumulative.partition_point(|&c| c <= x)]
    }
}

/// One outward code and where it is.
#[derive(Debug)]
pub(super) struct Outward {
    pub(super) code: String,
    pub(super) region: &'static str,
    /// Range of `Tables::outward` holding the codes of the same area.
    pub(super) area: (u16, u16),
}

/// Every table, built once.
pub(super) struct Tables {
    pub(super) male: Ranked,
    pub(super) female: Ranked,
    pub(super) family: Ranked,
    pub(super) rare_family: Vec<String>,
    pub(super) outward: Vec<Outward>,
    pub(super) outward_cumulative: Vec<u64>,
    /// Given name → its nicknames and variants (title case).
    pub(super) nicknames: HashMap<&'static str, Vec<String>, BuildHasherDefault<Fnv>>,
    pub(super) ni_prefixes: Vec<[u8; 2]>,
}

pub(super) fn tables() -> &'static Tables {
    static TABLES: OnceLock<Tables> = OnceLock::new();
    TABLES.get_or_init(Tables::build)
}

impl Tables {
    fn build() -> Tables {
        let male = Ranked::new(MALE_NAMES, 5);
        let female = Ranked::new(FEMALE_NAMES, 5);
        let mut family_items: Vec<&'static str> = Vec::new();
        for word in FAMILY_NAMES.split_whitespace() {
            if !family_items.contains(&word) {
                family_items.push(word);
            }
        }
        let family = Ranked::weighted(family_items, 20);
        let mut rare_family = Vec::new();
        for prefix in RARE_PREFIXES.split_whitespace() {
            for suffix in RARE_SUFFIXES.split_whitespace() {
                let name = format!("{prefix}{suffix}");
                if !family.items.contains(&name.as_str()) && !rare_family.contains(&name) {
                    rare_family.push(name);
                }
            }
        }
        let mut outward = Vec::new();
        let mut outward_cumulative = Vec::new();
        let mut total = 0;
        for &(area, districts, weight, region) in AREAS {
            let start = outward.len() as u16;
            let mut codes = Vec::new();
            for item in districts.split_whitespace() {
                if item.starts_with(|c: char| c.is_ascii_alphabetic()) {
                    codes.push(item.to_owned());
                } else if let Some((lo, hi)) = item.split_once('-') {
                    let (lo, hi): (u32, u32) = (
                        lo.parse().expect("district ranges are numbers"),
                        hi.parse().expect("district ranges are numbers"),
                    );
                    codes.extend((lo..=hi).map(|d| format!("{area}{d}")));
                } else {
                    codes.push(format!("{area}{item}"));
                }
            }
            let end = start + codes.len() as u16;
            let each = weight * 10_000 / codes.len() as u64;
            for code in codes {
                total += each;
                outward_cumulative.push(total);
                outward.push(Outward {
                    code,
                    region,
                    area: (start, end),
                });
            }
        }
        let mut nicknames: HashMap<&'static str, Vec<String>, BuildHasherDefault<Fnv>> =
            HashMap::default();
        for &name in male.items.iter().chain(&female.items) {
            let upper = name.to_uppercase();
            let mut list: Vec<String> = NICKNAMES
                .iter()
                .filter(|(_, root)| *root == upper)
                .map(|(nick, _)| title_case(nick))
                .collect();
            list.extend(
                EXTRA_NICKNAMES
                    .iter()
                    .filter(|(formal, _)| *formal == name)
                    .map(|(_, nick)| (*nick).to_owned()),
            );
            if !list.is_empty() {
                nicknames.insert(name, list);
            }
        }
        let mut ni_prefixes = Vec::new();
        for a in b'A'..=b'Z' {
            for b in b'A'..=b'Z' {
                let pair = [a, b];
                if !b"DFIQUV".contains(&a) && !b"DFIOQUV".contains(&b) && !NI_NEVER.contains(&&pair)
                {
                    ni_prefixes.push(pair);
                }
            }
        }
        Tables {
            male,
            female,
            family,
            rare_family,
            outward,
            outward_cumulative,
            nicknames,
            ni_prefixes,
        }
    }

    pub(super) fn given(&self, sex: Sex) -> &Ranked {
        match sex {
            Sex::Female => &self.female,
            _ => &self.male,
        }
    }

    pub(super) fn sample_outward(&self, rng: &mut Rng) -> u16 {
        let total = *self.outward_cumulative.last().expect("areas are listed");
        let x = rng.below(total);
        self.outward_cumulative.partition_point(|&c| c <= x) as u16
    }

    /// Another outward code of the same area.
    pub(super) fn near(&self, outward: u16, rng: &mut Rng) -> u16 {
        let (start, end) = self.outward[outward as usize].area;
        start + rng.below(u64::from(end - start)) as u16
    }

    pub(super) fn nicknames_of(&self, name: &str) -> &[String] {
        self.nicknames.get(name).map_or(&[], Vec::as_slice)
    }
}

/// FNV-1a as a `Hasher`, for short keys looked up on every row.
pub(super) struct Fnv(u64);

impl Default for Fnv {
    fn default() -> Self {
        Fnv(0xcbf2_9ce4_8422_2325)
    }
}

impl std::hash::Hasher for Fnv {
    fn finish(&self) -> u64 {
        self.0
    }

    fn write(&mut self, bytes: &[u8]) {
        for &b in bytes {
            self.0 = (self.0 ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3);
        }
    }
}

/// NI prefixes never allocated besides those with an excluded letter (spec §4.6.3).
const NI_NEVER: [&[u8; 2]; 7] = [b"BG", b"GB", b"KN", b"NK", b"NT", b"TN", b"ZZ"];

/// `WILLIAM` → `William`.
fn title_case(upper: &str) -> String {
    let mut out = String::with_capacity(upper.len());
    for (i, c) in upper.chars().enumerate() {
        if i == 0 {
            out.push(c);
        } else {
            out.extend(c.to_lowercase());
        }
    }
    out
}
