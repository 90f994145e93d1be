"""Exam-style questions in the 14 MMLU-Pro categories, from templates and per-domain
vocabulary written for this repository (no question is taken from any dataset).

Each domain has key terms, people, and templates of its own (calculation problems with
numbers and units for the quantitative domains, scenarios for law and psychology, sources
for history), and shares generic exam templates ("Which of the following best describes
…?") with the others, so the model has to learn the vocabulary, not the phrasing.
"""

import random

GENERIC = [
    "Which of the following best describes {t}?",
    "What is {t}?",
    "Which statement about {t} is correct?",
    "Which of the following is NOT a characteristic of {t}?",
    "{T} is most closely associated with which of the following?",
    "What is the primary role of {t}?",
    "How does {t} differ from {t2}?",
    "Explain the relationship between {t} and {t2}.",
    "In the context of {t}, which of the following is true?",
    "Which of the following is an example of {t}?",
    "Which of the following would most likely result from {t}?",
    "Define {t} and give an example.",
    "The concept of {t} refers to",
    "All of the following are associated with {t} EXCEPT",
    "What is the main difference between {t} and {t2}?",
    "Why is {t} important in the study of {d}?",
    "Which of the following statements regarding {t} and {t2} is accurate?",
    "A student is asked to describe {t}. Which answer is best?",
    "{T} can best be explained by which of the following?",
    "Which factor most directly affects {t}?",
]

D = {}

D["biology"] = dict(
    name="biology",
    terms="""mitosis, meiosis, photosynthesis, cellular respiration, the Krebs cycle, glycolysis,
    DNA replication, transcription, translation, messenger RNA, ribosomes, the endoplasmic reticulum,
    the Golgi apparatus, mitochondria, chloroplasts, natural selection, genetic drift, gene flow,
    Hardy-Weinberg equilibrium, speciation, phylogeny, homologous structures, analogous structures,
    enzymes, apoenzymes and cofactors, allosteric regulation, the cell membrane, active transport,
    osmosis, diffusion, the sodium-potassium pump, operons, the lac operon, gene expression,
    epigenetics, alleles, dominant and recessive traits, incomplete dominance, codominance,
    polygenic inheritance, sex-linked traits, crossing over, nondisjunction, chromosomes,
    prokaryotes, eukaryotes, bacteria, archaea, fungi, protists, viruses as parasites, plant hormones,
    auxin, xylem and phloem, stomata, transpiration, ecological succession, food webs, trophic levels,
    population growth, carrying capacity, symbiosis, mutualism, predation, biomes, the nitrogen cycle,
    hormones of insects, animal behavior, imprinting, circadian rhythms, embryonic development,
    gastrulation, stem cells, the immune response in vertebrates, antibodies, neurons and synapses,
    action potentials, muscle contraction, the nephron, homeostasis, invertebrates, annelids,
    arthropods, mollusks, amphibians, coelom, fermentation, ATP synthase, the electron transport chain,
    Calvin cycle, C4 plants, CAM plants, signal transduction, cyclins, apoptosis, mutations, transposons,
    restriction enzymes, PCR, gel electrophoresis, cloning, evolution of eye color, sickle cell trait,
    dihybrid crosses, test crosses, pedigree analysis, linked genes, map units""",
    people="Darwin, Mendel, Lamarck, Watson and Crick, Hardy and Weinberg, Lorenz, Pasteur",
    templates=[
        "In a population of {n} organisms, the frequency of the recessive allele is 0.{k}. What proportion is heterozygous?",
        "A cross between two heterozygous pea plants produces {n} offspring. How many are expected to show the recessive phenotype?",
        "Which organelle is responsible for {t}?",
        "A mutation affecting {t} would most likely cause which effect in the cell?",
        "How many chromosomes does a human cell have after {t}?",
        "What would happen to a plant cell placed in a hypertonic solution?",
        "Which of the following is a function of {t} in living organisms?",
        "In what way does {t} contribute to evolution?",
        "Distinguish between {t} and {t2} in living cells.",
        "A biologist studying {t} in frogs observes that",
        "Which of the following is true of the structure of {t}?",
        "What is the role of {t} in an ecosystem?",
        "Experiments with fruit flies showed that {t} is controlled by",
        "If a species of beetle shows {t}, which explanation is most consistent with evolutionary theory?",
        "A gene located on the X chromosome causes {t}. What are the chances a son inherits it?",
    ],
)

D["business"] = dict(
    name="business",
    terms="""cash budgets, accounts receivable, the gross profit method, payroll taxes, FICA,
    overtime pay, list price and net price, percent markdown, excise taxes, installment buying,
    finance charges, the annual percentage rate, stock yields, price-earnings ratio, bond discounts,
    brand loyalty, target markets, distribution channels, retailing, wholesaling, personal selling,
    sales promotion, customer relationship management, organisational culture, job design,
    teams at work, change management, decision-making in organisations, stakeholder theory,
    markup, net profit, gross margin, simple interest, compound interest, the installment plan,
    trade discounts, chain discounts, cash discounts, depreciation, the straight-line method,
    the declining-balance method, payroll deductions, commission, sales tax, property tax, insurance
    premiums, the break-even point, corporate social responsibility, business ethics, stakeholders,
    shareholders, marketing mix, market segmentation, brand equity, advertising, consumer behavior,
    supply chain management, organizational structure, leadership styles, motivation theories,
    human resource management, strategic planning, SWOT analysis, franchising, partnerships,
    sole proprietorships, corporations, limited liability, mergers and acquisitions, stock dividends,
    bonds, promissory notes, bank discount, maturity value, annuities, amortization, mortgages,
    inventory turnover, the current ratio, return on investment, cost of goods sold, overhead,
    fixed costs, variable costs, pricing strategy, penetration pricing, price skimming, e-commerce,
    relationship marketing, guerrilla marketing, public relations campaigns, product life cycle,
    business-to-business markets, whistleblowing, corporate governance, the triple bottom line,
    sustainability reporting, entrepreneurship, venture capital, management by objectives""",
    people="Porter, Drucker, Kotler, Friedman, Carroll, Maslow, Herzberg",
    templates=[
        "A store buys a television for ${n} and marks it up {k}% on cost. What is the selling price?",
        "A note for ${n} at {k}% interest is due in {m} days. What is the maturity value?",
        "Find the compound interest on ${n} at {k}% compounded quarterly for {m} years.",
        "A salesperson earns a {k}% commission on sales of ${n}. What is her commission?",
        "A machine costing ${n} has a useful life of {m} years. Using the straight-line method, what is the annual depreciation?",
        "Partners invested ${n} and ${n2} in a business. How should a net income of ${n3} be divided?",
        "An invoice of ${n} carries terms 2/10, n/30. How much is paid if settled within 10 days?",
        "A company's fixed costs are ${n} and each unit sells for ${k} with variable cost ${m}. Find the break-even point.",
        "The rent increased from ${n} per year to ${n2} per year. What is the percent increase?",
        "What is the annual premium for a ${n} insurance policy at ${k} per $1,000?",
        "Which of the following is a key element of {t}?",
        "In marketing, {t} is best described as",
        "According to {p}, managers should consider {t} because",
        "A firm that practices {t} is most likely to",
        "Employees who engage in {t} are primarily concerned with",
    ],
)

D["chemistry"] = dict(
    name="chemistry",
    terms="""the mole, molar mass, stoichiometry, limiting reagents, percent yield, the ideal gas law,
    partial pressure, vapor pressure, colligative properties, freezing point depression,
    boiling point elevation, osmotic pressure, enthalpy, entropy, Gibbs free energy, Hess's law,
    calorimetry, chemical equilibrium, Le Chatelier's principle, the equilibrium constant, Ksp,
    acids and bases, pH, pKa, buffers, titration, electrochemistry, galvanic cells, electrolysis,
    standard reduction potentials, the Nernst equation, reaction kinetics, rate laws, activation energy,
    the Arrhenius equation, catalysts, half-life of a first-order reaction, radioactive decay,
    electron configuration, quantum numbers, atomic orbitals, hybridization, VSEPR theory,
    molecular geometry, ionic bonds, covalent bonds, electronegativity, hydrogen bonding,
    van der Waals forces, lattice energy, the periodic table, ionization energy, oxidation states,
    redox reactions, organic functional groups, alkanes, alkenes, aromatic compounds, isomers,
    chirality, SN1 and SN2 reactions, polymers, spectroscopy, NMR spectra, infrared spectroscopy,
    mass spectrometry, the Schrodinger equation for hydrogen, the particle in a box, molecular orbital
    theory, bond order, the Born-Haber cycle, crystal field theory, coordination compounds,
    heat capacity, the Joule-Thomson effect, the Clausius-Clapeyron equation, solubility, molarity,
    molality, normality, the rate constant, zero-order kinetics, paramagnetism, EPR spectra""",
    people="Lewis, Bronsted, Arrhenius, Le Chatelier, Pauling, Avogadro, Bohr",
    templates=[
        "How many grams of NaCl are needed to prepare {n} mL of a {k} M solution?",
        "Calculate the pH of a {k} M solution of acetic acid (Ka = 1.8 x 10^-5).",
        "What volume does {k} mol of an ideal gas occupy at {n} K and 1 atm?",
        "The half-life of a first-order reaction is {k} minutes. What fraction remains after {n} minutes?",
        "Calculate the standard enthalpy change for the combustion of {k} g of methane.",
        "What is the molality of a solution made by dissolving {k} g of glucose in {n} g of water?",
        "Predict the molecular geometry of SF4 using {t}.",
        "Which of the following compounds has the highest boiling point, and why?",
        "The equilibrium constant for N2 + 3H2 <=> 2NH3 at {n} K is {k}. What happens if pressure increases?",
        "Calculate the cell potential for a zinc-copper galvanic cell at 298 K.",
        "Determine the empirical formula of a compound that is {k}% carbon and {m}% hydrogen by mass.",
        "Which reagent is oxidized in the reaction of permanganate with iron(II) ions?",
        "Estimate the energy of an electron in the n = {k} level of a hydrogen atom.",
        "What is the hybridization of carbon in {t}?",
        "A {n} mL sample of HCl is titrated with {k} M NaOH. What is the concentration of the acid?",
    ],
)

D["computer_science"] = dict(
    name="computer science",
    terms="""instruction pipelines, hazards, assembly language, registers, compilers
    and interpreters, lexical analysis, syntax trees, lambda calculus, functional programming,
    Java classes, C pointers, arrays, strings, binary search trees, AVL trees, B-trees, tries,
    minimum spanning trees, shortest paths, network flow, hashing with chaining, cryptographic hash
    functions, TLS, session hijacking, cross-site scripting, access control lists, virtual machines,
    binary search, hash tables, linked lists, binary trees, heaps, graph traversal,
    depth-first search, breadth-first search, Dijkstra's algorithm, dynamic programming,
    greedy algorithms, sorting algorithms, quicksort, merge sort, time complexity, big-O notation,
    NP-completeness, Turing machines, finite automata, regular expressions, context-free grammars,
    compilers, parsing, operating systems, process scheduling, deadlock, virtual memory, paging,
    caches, pipelining, instruction sets, RISC processors, floating-point representation,
    two's complement, Boolean logic, logic gates, computer networks, TCP/IP, the OSI model,
    routing protocols, DNS, HTTP, encryption, public-key cryptography, RSA, digital signatures,
    buffer overflows, SQL injection, firewalls, port scanning with Nmap, malware, authentication,
    relational databases, SQL queries, normalization, transactions, concurrency control,
    object-oriented programming, inheritance, polymorphism, recursion, software testing,
    version control, machine learning, neural networks, gradient descent, overfitting,
    decision trees, support vector machines, reinforcement learning, bayesian networks,
    computer graphics, parallel computing, distributed systems, garbage collection, memory
    allocation, stack frames, interrupts, the halting problem, pseudorandom number generators""",
    people="Turing, Knuth, Dijkstra, von Neumann, Shannon, Hopper",
    templates=[
        "What is the worst-case time complexity of {t} on an array of n elements?",
        "Consider the following Python code: x = [1, 2, 3]; y = x; y.append({k}). What is x?",
        "A cache has {n} lines and a block size of {k} bytes. How many bits are needed for the offset?",
        "Which data structure is most efficient for implementing {t}?",
        "What is the output of the program if the loop runs {n} times?",
        "A pipelined processor has {k} stages. How many cycles are needed to execute {n} instructions?",
        "What is the two's complement representation of -{k} in 8 bits?",
        "Which of the following is a security vulnerability related to {t}?",
        "In a relational database, what does {t} guarantee?",
        "Which statement about {t} in operating systems is true?",
        "A neural network with {k} hidden layers is trained using {t}. What problem may arise?",
        "Write a function that implements {t} and analyze its running time.",
        "How many edges does a complete graph with {k} vertices have?",
        "Which protocol is used for {t} on the internet?",
        "What are the port states determined by {t}?",
    ],
)

D["economics"] = dict(
    name="economics",
    terms="""supply and demand, price elasticity of demand, consumer surplus, producer surplus,
    deadweight loss, marginal utility, indifference curves, budget constraints, opportunity cost,
    comparative advantage, absolute advantage, perfect competition, monopoly, oligopoly,
    the kinked demand curve, monopolistic competition, game theory, Nash equilibrium, price
    discrimination, marginal cost, average total cost, economies of scale, externalities, public goods,
    the tragedy of the commons, gross domestic product, inflation, the consumer price index,
    unemployment, the natural rate of unemployment, the Phillips curve, aggregate demand, aggregate
    supply, fiscal policy, monetary policy, the Federal Reserve, open market operations, the money
    multiplier, reserve requirements, interest rates, the IS-LM model, the Keynesian multiplier,
    crowding out, the balance of payments, exchange rates, tariffs, quotas, trade deficits,
    economic growth, the Solow model, the business cycle, recession, stagflation, the quantity theory
    of money, rational expectations, the liquidity trap, labor markets, minimum wage, income inequality,
    the Lorenz curve, the Gini coefficient, econometrics, regression analysis, autocorrelation,
    heteroskedasticity, stationarity, VAR models, variance decomposition, cointegration, ARMA models,
    ordinary least squares, instrumental variables, moral hazard, adverse selection""",
    people="Keynes, Friedman, Adam Smith, Ricardo, Marx, Hayek, Samuelson",
    templates=[
        "If the price of a good rises from ${k} to ${m} and quantity demanded falls from {n} to {n2}, what is the price elasticity?",
        "If the reserve requirement is {k}%, what is the money multiplier?",
        "If the marginal propensity to consume is 0.{k}, what is the spending multiplier?",
        "Suppose nominal GDP is ${n} billion and the GDP deflator is {k}. What is real GDP?",
        "What happens to equilibrium price and quantity when {t} increases?",
        "Which of the following would shift the aggregate demand curve to the right?",
        "Under {t}, a firm maximizes profit where",
        "Suppose that there are three firms in an oligopolistic industry. Does {t} apply here?",
        "Which of the following statements about {t} in time-series regressions is true?",
        "The central bank sells bonds on the open market. What is the effect on {t}?",
        "A tariff on imported steel will most likely affect {t} in which way?",
        "In the long run, an increase in the money supply leads to",
        "Consider an AR(1) model with coefficient 0.{k}. What is the unconditional mean?",
        "According to {p}, {t} occurs when",
        "Which policy would a government use to reduce {t} during a recession?",
    ],
)

D["engineering"] = dict(
    name="engineering",
    terms="""fluid flow in pipes, pressure drop, the Reynolds number, laminar flow, turbulent flow,
    Bernoulli's equation, heat exchangers, convective heat transfer, thermal conductivity, fins,
    the Nusselt number, boundary layers, pumps, compressors, turbines, the Rankine cycle, the Otto
    cycle, refrigeration cycles, thermodynamic efficiency, stress and strain, Young's modulus of a
    beam, bending moments, shear force, torsion of shafts, gears, bearings, springs, vibrations,
    damping, control systems, transfer functions, Bode plots, feedback loops, PID controllers,
    stability of control systems, electric circuits, Thevenin equivalent, operational amplifiers,
    transistors, diodes, rectifiers, three-phase power, transformers, induction motors,
    DC generators, synchronous machines, armature windings, power factor, transmission lines,
    signal processing, the Fourier transform, the Laplace transform, sampling theorem, filters,
    modulation, antennas, electromagnetic waves in waveguides, digital logic circuits, flip-flops,
    microprocessors, the 8085 microprocessor, memory chips, semiconductor devices, mass transfer,
    diffusion coefficients, distillation columns, chemical reactors, materials fatigue, welding,
    concrete strength, soil mechanics, surveying, structural trusses, hydraulic jumps, weirs""",
    people="Carnot, Rankine, Nyquist, Bode, Kirchhoff, Tesla",
    templates=[
        "Water at {k}°F flows at {n} gal/min through a pipe of diameter {m} in. Calculate the pressure drop over {n2} ft.",
        "A steel shaft transmits {n} hp at {n2} rpm. Determine the required diameter if the allowable shear stress is {k} ksi.",
        "Air flows over a flat plate at {k} m/s. Compute the heat transfer coefficient at {m} m from the leading edge.",
        "A {k}-pole, 60 Hz induction motor runs at {n} rpm. What is the slip?",
        "A transformer has {n} turns on the primary and {n2} turns on the secondary. Find the secondary voltage for a {k} V input.",
        "Find the Thevenin equivalent of a circuit with a {k} V source and {m} ohm resistors.",
        "A DC generator has {n} conductors and {k} poles. Find the generated emf at {n2} rpm.",
        "Determine the transfer function of a system with {t}.",
        "A signal is sampled at {n} Hz. What is the highest frequency that can be represented?",
        "Calculate the efficiency of an ideal {t} operating between {n} K and {n2} K.",
        "A concrete beam of span {k} m carries a uniform load of {m} kN/m. Find the maximum bending moment.",
        "The number of output pins in {t} is",
        "Steam enters a turbine at {n} kPa and {n2}°C. Find the work output per kg.",
        "A heat exchanger cools oil from {n}°F to {k}°F using water. Find the required area.",
        "In a three-phase system, the line voltage is {n} V. Calculate the power for a load of {k} kW at power factor 0.8.",
    ],
)

D["health"] = dict(
    name="health",
    terms="""the appendix, the pancreas, the spleen, the gallbladder, the cerebellum, the spinal cord,
    anticoagulants, beta blockers, statins, opioids, anesthesia, surgery, fractures, concussion,
    measles, malaria, herpes viruses, polio, hand-foot-and-mouth disease, kwashiorkor, scurvy,
    rickets, dietary guidelines, sodium intake, alcohol use, smoking cessation, exercise in older adults,
    the cardiac cycle, blood pressure, hypertension, diabetes mellitus, insulin resistance,
    the thyroid gland, cranial nerves, the brachial plexus, the femoral artery, bones of the skull,
    the pharyngeal arches, the lymphatic system, the liver, the kidneys, the respiratory system,
    asthma, chronic obstructive pulmonary disease, pneumonia, tuberculosis, HIV, hepatitis B,
    influenza, bunyaviruses, vaccination, antibiotics, antibiotic resistance, clinical trials,
    drug dosage, pharmacokinetics, adverse drug reactions, anemia, vitamin deficiencies, vitamin D,
    iron deficiency, protein-energy malnutrition, dietary fiber, obesity, cholesterol, lipoproteins,
    apoproteins, cancer screening, breast cancer, chemotherapy, palliative care, dementia,
    Alzheimer's disease, aging and the elderly, osteoporosis, stroke, myocardial infarction,
    electrocardiograms, wound healing, sepsis, blood transfusion, the Glasgow coma scale,
    cardiopulmonary resuscitation, medical genetics, cystic fibrosis, Down syndrome, pregnancy,
    prenatal care, breastfeeding, infant nutrition, sports nutrition, muscle glycogen, hydration,
    nursing assessment, informed consent, patient history, physical examination, triage,
    hand hygiene, infection control, epidemiology of outbreaks, public health interventions""",
    people="Hippocrates, Nightingale, Semmelweis, Fleming, Jenner",
    templates=[
        "A {n}-year-old man presents with chest pain radiating to his left arm. What is the most likely diagnosis?",
        "A {n}-year-old woman has fatigue, pallor and low hemoglobin. Which test should be ordered first?",
        "Which nerve supplies the muscles involved in {t}?",
        "What is the recommended daily intake of {t} for an adult?",
        "A patient receiving {t} develops a rash. What is the most appropriate next step?",
        "Which of the following is a risk factor for {t}?",
        "Genetic characteristics of {t} include which of the following?",
        "Which structure passes through the foramen ovale of the skull?",
        "During {t}, which of the following changes occurs in the body?",
        "An elderly patient with {t} is most at risk of",
        "Which vitamin deficiency causes {t}?",
        "A nurse is assessing a patient with {t}. Which finding requires immediate action?",
        "What is the first-line treatment for {t}?",
        "Which of the following is the most common cause of {t} in children?",
        "The dose of a drug is {k} mg/kg. How much should a {n} kg patient receive?",
    ],
)

D["history"] = dict(
    name="history",
    terms="""the French Revolution, the Industrial Revolution, the Renaissance, the Protestant
    Reformation, the Enlightenment, the Glorious Revolution, the American Revolution, the Declaration
    of Independence, the Constitution, the Civil War, Reconstruction, the New Deal, the Great
    Depression, the Progressive Era, World War I, the Treaty of Versailles, World War II, the Cold War,
    the Marshall Plan, decolonization, the partition of India, the Ottoman Empire, the Mughal Empire,
    the Ming dynasty, the Qing dynasty, the Opium Wars, the Meiji Restoration, the Russian Revolution,
    the Bolsheviks, the Roman Republic, the Roman Empire, ancient Egypt, Mesopotamia, the Neolithic
    Revolution, hunter-gatherers, Paleolithic tools, the Silk Road, the Black Death, feudalism,
    the Crusades, the Byzantine Empire, the Abbasid caliphate, the Mongol Empire, the Columbian
    Exchange, the Atlantic slave trade, mercantilism, the Scramble for Africa, imperialism,
    the Haitian Revolution, Latin American independence, the Mexican Revolution, the civil rights
    movement, women's suffrage, the temperance movement, Jacksonian democracy, Manifest Destiny,
    the Monroe Doctrine, the Federalist Papers, the Louisiana Purchase, the Aztec Empire, the Inca,
    the Maya, archaeological discoveries, the Bronze Age collapse, Confucianism in Han China""",
    people="Napoleon, Robespierre, Lincoln, Jefferson, Bismarck, Lenin, Gandhi, Charlemagne",
    templates=[
        "This question refers to the following information. \"{q}\" The passage above is most closely associated with which historical development?",
        "This question refers to the following information. In {y}, a pamphlet argued that {q2}. Which of the following best explains the author's point of view?",
        "Which of the following was a major consequence of {t}?",
        "The ideas expressed in the speech by {p} were most directly influenced by",
        "In {y}, {p} wrote a letter describing {t}. The letter is best understood in the context of",
        "Which of the following best describes the causes of {t}?",
        "Historians have argued that {t} was a turning point because",
        "Which group most strongly supported {t}?",
        "In {y}, an archaeologist made a discovery related to {t}. He described it as",
        "The excerpt from the treaty of {y} is most likely a response to",
        "Compared with {t2}, {t} differed mainly in",
        "What was the significance of {t} for the development of modern Europe?",
    ],
    quotes=[
        "The rights of man are sacred and the king must answer to the nation",
        "Workers of the world unite, you have nothing to lose but your chains",
        "We hold these truths to be self-evident, that all men are created equal",
        "The colonies ought to be free and independent states",
        "Let the people rule themselves through their own assemblies",
        "The factories have made our city rich, but the workers live in misery",
        "No taxation without representation",
        "The emperor has ordered that foreign merchants may trade only at Canton",
        "The power to tax is the power to destroy",
    ],
    claims=[
        "the king had violated the ancient liberties of his subjects",
        "free trade would enrich every nation",
        "the church had become corrupt and must be reformed",
        "women deserved the vote as citizens of the republic",
        "slavery was incompatible with the principles of the revolution",
        "the empire must expand to secure new markets",
    ],
)

D["law"] = dict(
    name="law",
    terms="""negligence, strict liability, res ipsa loquitur, the duty of care, proximate cause,
    contributory negligence, battery, assault, false imprisonment, defamation, nuisance, trespass,
    adverse possession, easements, the rule against perpetuities, life estates, remainders,
    fee simple, landlord and tenant, covenants running with the land, mortgages and foreclosure,
    contract formation, offer and acceptance, consideration, the statute of frauds, the parol evidence
    rule, breach of contract, expectation damages, promissory estoppel, the mailbox rule, the UCC,
    murder, manslaughter, felony murder, voluntary intoxication, the insanity defense, self-defense,
    larceny, burglary, robbery, conspiracy, attempt, accomplice liability, the Fourth Amendment,
    search and seizure, the exclusionary rule, Miranda warnings, the Fifth Amendment, double jeopardy,
    the right to counsel, hearsay, the rules of evidence, cross-examination, due process, equal
    protection, the commerce clause, the First Amendment, freedom of speech, standing, jurisdiction,
    the Eleventh Amendment, federal preemption, class actions, summary judgment, res judicata,
    international law, treaties, customary international law, state sovereignty, the International
    Court of Justice, jus cogens, legal positivism, natural law, jurisprudence, the rule of law""",
    people="Hart, Dworkin, Austin, Kelsen, Holmes, Blackstone",
    templates=[
        "A defendant was charged with {t} after {s}. Should the defendant be convicted?",
        "A homeowner conveyed his property to his cousin for life, with remainder to his heirs. Which doctrine governs {t}?",
        "A landlord leased an apartment to a tenant for {k} years. The tenant {s}. Is the landlord liable under {t}?",
        "A buyer and seller signed a contract for the sale of {n} widgets. The seller {s}. What remedy is available under {t}?",
        "A police officer {s} without a warrant. Will the evidence be suppressed under {t}?",
        "A state statute prohibits {s}. Is the statute constitutional under {t}?",
        "A pedestrian was injured when {s}. In a suit for {t}, the plaintiff will most likely",
        "At trial, the prosecution offers testimony that {s}. Is the testimony admissible under {t}?",
        "Which of the following best states the rule of {t}?",
        "According to {p}, the concept of {t} means",
        "Under international law, {t} applies when",
        "The plaintiff sued the city after {s}. What is the city's best defense under {t}?",
    ],
    scenarios=[
        "he drank several beers and struck the victim with his car",
        "she entered a neighbor's house at night to retrieve her own lawnmower",
        "the store clerk detained a customer for two hours on suspicion of theft",
        "the contractor refused to finish the roof unless paid extra",
        "a tree from the neighbor's yard fell onto the garage",
        "the officer searched the trunk of the car after a traffic stop",
        "the newspaper published a false story about the mayor",
        "the company dumped chemicals into the river upstream of the farm",
        "the tenant stopped paying rent because the heating failed",
        "a witness repeated what the victim said before dying",
    ],
)

D["math"] = dict(
    name="math",
    terms="""derivatives, integrals, limits, the chain rule, integration by parts, Taylor series,
    convergence of series, differential equations, linear algebra, eigenvalues, determinants,
    matrix rank, vector spaces, linear transformations, groups, subgroups, cyclic groups, rings,
    fields, ideals, homomorphisms, permutations, combinatorics, binomial coefficients, probability,
    conditional probability, Bayes' theorem, random variables, expected value, variance, the normal
    distribution, the binomial distribution, hypothesis testing, confidence intervals, p-values,
    regression lines, correlation, sampling distributions, number theory, prime numbers, modular
    arithmetic, greatest common divisor, polynomials, roots of equations, complex numbers, logarithms,
    exponential growth, trigonometric identities, the unit circle, geometry of triangles, area and
    volume, the Pythagorean theorem, coordinate geometry, conic sections, vectors, the dot product,
    the cross product, multivariable calculus, partial derivatives, double integrals, line integrals,
    Green's theorem, topology, metric spaces, real analysis, sequences, graph theory, inequalities,
    arithmetic sequences, geometric series, fractions and percentages, ratios""",
    people="Euler, Gauss, Riemann, Fermat, Newton, Leibniz, Cauchy",
    templates=[
        "Find the derivative of f(x) = {k}x^3 - {m}x + {n}.",
        "Evaluate the integral of {k}x^2 from 0 to {m}.",
        "What is \\lim_{{x \\to 0}} (sin({k}x))/x?",
        "Solve for x: {k}x + {m} = {n}.",
        "How many ways can {k} people be seated in a row of {m} chairs?",
        "Find the order of the element ({k}, {m}) in Z_{n} x Z_{k}.",
        "Let A be a 3x3 matrix with eigenvalues {k}, {m} and 1. What is det(A)?",
        "A fair die is rolled {k} times. What is the probability of getting exactly two sixes?",
        "What is the remainder when {n} is divided by {k}?",
        "The sum of the first {n} positive integers is",
        "Find the equation of the tangent line to y = x^2 + {k} at x = {m}.",
        "A sample of {n} observations has mean {k} and standard deviation {m}. Construct a 95% confidence interval.",
        "Solve the differential equation y' = {k}y with y(0) = {m}.",
        "Is the series sum 1/n^{k} convergent? Justify using {t}.",
        "Find the work done by a force F = {k}i - {m}j + 9k moving an object along a straight line from the origin to ({n}, 2, 5).",
        "A rectangle has perimeter {n} cm and length {k} cm. What is its area?",
    ],
)

D["other"] = dict(
    name="other",
    terms="""bookkeeping entries, the statement of cash flows, internal audit, fraud risk, tax returns,
    sampling in audits, sociology of work, bureaucracy, social movements, mass media influence,
    advertising ethics in public relations, opinion polls, demographic transition, infant mortality,
    GDP per capita rankings, military alliances, cyber warfare, peacekeeping, refugee flows,
    sexual orientation, contraception, dating customs, wedding traditions, celebrity culture,
    famous inventions, world records, Olympic Games, household budgeting, personal finance,
    auditing standards, the auditor's report, internal control, materiality, audit evidence,
    financial statements, the balance sheet, accrual accounting, deferred revenue, goodwill,
    lease accounting, revenue recognition, tax deductions, the CPA exam, generally accepted accounting
    principles, the managerial revolution, social stratification, socialization, deviance, the family
    as an institution, urbanization, globalization, public relations, press releases, crisis
    communication, media relations, world population statistics, life expectancy by country,
    literacy rates, global poverty, the percentage of people with electricity, vaccination coverage
    worldwide, household income, popular culture, famous paintings, sports trivia, national flags,
    capital cities, national holidays, television shows, cooking, everyday objects, car maintenance,
    security studies, nuclear deterrence, terrorism, human security, arms control, US foreign policy,
    the National Security Council, human sexuality, gender identity, marriage customs, religious
    festivals, consumer products, fashion, music history, famous landmarks, board games""",
    people="Weber, Durkheim, Bernays, Goffman, Scott",
    templates=[
        "A CPA has been asked to {s}. Before doing so, the CPA should",
        "Which of the following is an auditor's responsibility regarding {t}?",
        "As of 2019, about what percentage of the world's population had access to {t2}?",
        "In the debate about {t}, which sociologist argued that",
        "Which of the following is a goal of {t}?",
        "What is the most popular {t2} in the United States?",
        "How should a company record {t} under GAAP?",
        "Which of the following would a public relations practitioner do first during {t}?",
        "According to security studies scholars, {t} refers to",
        "Which country has the largest {t2}?",
        "In which city would you find {t2}?",
        "What is the usual purpose of {t}?",
    ],
    actions=[
        "reissue the auditor's report for the prior period", "perform a review of interim statements",
        "evaluate going concern doubt", "compile financial statements for a small client",
    ],
    trivia="""access to electricity, access to clean water, number of airports, coffee consumption,
    highest mountain, longest river, most spoken language, pet ownership, breakfast cereal, sports
    team, holiday tradition, the Eiffel Tower, the Statue of Liberty, board game, television network""",
)

D["philosophy"] = dict(
    name="philosophy",
    terms="""the ship of Theseus, the Euthyphro dilemma, Pascal's wager, the experience machine,
    the harm principle, the greatest happiness principle, the kingdom of ends, the original position,
    the Chinese room, qualia, the hard problem of consciousness, Zeno's paradoxes, the liar paradox,
    necessary and sufficient conditions, moral intuitions, cultural relativism, the Tao, karma,
    nirvana, the Analects, ren and li, the Buddha's four noble truths, Hindu dharma, Jewish ethics,
    Christian theology, Islamic philosophy, Aquinas's five ways, Occam's razor, ideal observer theory,
    utilitarianism, deontology, virtue ethics, the categorical imperative, the social
    contract, the state of nature, natural rights, justice as fairness, the veil of ignorance,
    moral relativism, moral realism, ethical egoism, the is-ought problem, free will, determinism,
    compatibilism, the mind-body problem, dualism, physicalism, functionalism, personal identity,
    skepticism, the problem of induction, a priori knowledge, empiricism, rationalism, the theory of
    forms, the allegory of the cave, Socratic method, existentialism, bad faith, the absurd,
    phenomenology, the ontological argument, the cosmological argument, the problem of evil,
    divine command theory, logical validity, soundness, modus ponens, fallacies, the straw man
    fallacy, begging the question, symbolic logic, truth tables, predicate logic, the
    trolley problem, moral status of animals, euthanasia, abortion ethics, just war theory,
    Confucian ethics, Buddhism and the self, Stoicism, Epicureanism, naturalism, the good life,
    eudaimonia, the golden mean, the doctrine of double effect, injustice, moral luck""",
    people="Hobbes, Locke, Kant, Mill, Aristotle, Plato, Socrates, Hume, Descartes, Rawls, Nietzsche, Sartre, Singer, Confucius",
    templates=[
        "According to {p}, the definition of {t} is _____.",
        "{p} argues that {t} is",
        "Which of the following is the best translation into predicate logic of the sentence: all {w}s are mortal?",
        "Construct a truth table for the argument: if P then Q; not Q; therefore not P. Is it valid?",
        "Which fallacy is committed when someone argues that {t}?",
        "For which of these two scenarios does the main character do something clearly morally wrong: I {s}?",
        "{p}'s view of {t} is best described as",
        "Which of the following is an objection to {t}?",
        "Naturalists who concentrated on {t} are associated with which of the following?",
        "What does {p} mean by {t}?",
        "In the Republic, Plato claims that {t}",
        "Which statement would a proponent of {t} most likely accept?",
    ],
    scenarios=[
        "took money from my friend's wallet without asking", "told my grandmother her cooking was lovely",
        "left my dog in a hot car", "returned the extra change to the cashier", "lied on my tax return",
    ],
    words="man, philosopher, Greek, human, citizen, animal",
)

D["physics"] = dict(
    name="physics",
    terms="""the Carnot engine, specific heat, latent heat, thermal expansion, the Stefan-Boltzmann
    law, Wien's law, spectral lines, the hydrogen atom, spin, magnetic dipoles, solenoids, AC circuits,
    resonance, impedance, polarization of light, optical fibers, lasers, semiconductors,
    superconductivity, moments of inertia, center of mass, satellites in orbit, tidal forces, redshift,
    Newton's laws of motion, projectile motion, circular motion, friction, work and energy,
    conservation of momentum, elastic collisions, rotational inertia, torque, angular momentum,
    simple harmonic motion, pendulums, waves, the Doppler effect, standing waves, sound intensity,
    interference, diffraction, thin films, refraction, Snell's law, lenses, mirrors, the speed of light,
    special relativity, time dilation, length contraction, mass-energy equivalence, electric fields,
    Coulomb's law, Gauss's law, electric potential, capacitors, resistors, Ohm's law, magnetic fields,
    the Lorentz force, Faraday's law, inductance, electromagnetic waves, thermodynamics, the ideal gas,
    entropy, heat engines, blackbody radiation, the photoelectric effect, wave-particle duality,
    the uncertainty principle, the Bohr model, nuclear fission, nuclear fusion, radioactive decay,
    particle physics, quarks, astronomy, the solar system, planetary orbits, Kepler's laws, stars,
    black holes, galaxies, the Big Bang, cosmic microwave background, telescopes, gravity, escape
    velocity, fluids, buoyancy, pressure, Young's modulus, elasticity, kinetic theory of gases""",
    people="Newton, Einstein, Maxwell, Bohr, Feynman, Kepler, Galileo, Faraday",
    templates=[
        "A ball is thrown upward with a speed of {k} m/s. How high does it rise?",
        "A {k} kg block slides down a frictionless incline of {n} degrees. What is its acceleration?",
        "A {k} ohm resistor is connected to a {m} V battery. What current flows?",
        "A particle executing simple harmonic motion has amplitude {k} cm and period {m} s. Find its maximum speed.",
        "What is the wavelength of a photon with energy {k} eV?",
        "A car of mass {n} kg moving at {k} m/s collides with a stationary car. What is the final speed if they stick together?",
        "Light passes from air into glass with index of refraction 1.{k} at an angle of {n} degrees. Find the angle of refraction.",
        "A spaceship moves at 0.{k}c relative to Earth. How much time passes on the ship during {m} years on Earth?",
        "If Young's modulus for steel is {k} x 10^11 dynes/cm^2, how much force will stretch a wire by {m}%?",
        "A capacitor of {k} microfarads is charged to {n} V. How much energy does it store?",
        "What is the escape velocity from a planet of mass {k} x 10^24 kg and radius {m} x 10^6 m?",
        "Two charges of {k} microcoulombs are separated by {m} cm. What is the force between them?",
        "A telescope has an objective lens of focal length {n} cm. What is its angular resolution?",
        "Why does {t} occur?",
        "A gas at {n} K expands isothermally to twice its volume. Find the work done.",
    ],
)

D["psychology"] = dict(
    name="psychology",
    terms="""the Stanford prison experiment, learned helplessness, self-efficacy, the placebo
    effect, confirmation bias, the availability heuristic, anchoring, framing effects, working memory,
    episodic memory, procedural memory, amnesia, the Yerkes-Dodson law, intrinsic motivation,
    achievement motivation, temperament, adolescence, identity crisis, parenting styles, ADHD,
    autism spectrum disorder, bipolar disorder, post-traumatic stress disorder, eating disorders,
    antidepressants, exposure therapy, family therapy, counseling, the Rorschach test, norms for tests,
    classical conditioning, operant conditioning, reinforcement schedules, observational
    learning, cognitive dissonance, attribution theory, the fundamental attribution error,
    conformity, obedience to authority, the bystander effect, groupthink, social facilitation,
    Piaget's stages of development, object permanence, attachment styles, Erikson's psychosocial
    stages, Kohlberg's moral development, the id, ego and superego, defense mechanisms, repression,
    projection, humanistic psychology, self-actualization, Maslow's hierarchy of needs, intelligence
    testing, multiple intelligences, the triarchic theory of intelligence, IQ, memory encoding,
    short-term memory, long-term memory, the serial position effect, forgetting curves,
    sensation and perception, signal detection theory, depth perception, the Gestalt principles,
    neurotransmitters, dopamine, serotonin, the limbic system, the amygdala, the hippocampus,
    sleep stages, REM sleep, dreams, hypnosis, psychoactive drugs, motivation, emotion theories,
    the James-Lange theory, stress and coping, personality traits, the Big Five, psychological
    disorders, the DSM, major depressive disorder, schizophrenia, anxiety disorders, phobias,
    obsessive-compulsive disorder, cognitive behavioral therapy, psychotherapy ethics, dual
    relationships with clients, confidentiality in therapy, psychological assessment, the MMPI,
    research methods, experimental design, independent variables, validity and reliability""",
    people="Freud, Skinner, Pavlov, Piaget, Erikson, Bandura, Milgram, Maslow, Rogers, Gardner, Sternberg, Festinger",
    templates=[
        "A child cries when her mother leaves the room. According to {p}, this shows {t}.",
        "A rat presses a lever and receives food on a variable-ratio schedule. This is an example of",
        "Dr. {n2l} is a psychotherapist. A former client asks to {s}. According to the ethics code, Dr. {n2l} should",
        "A researcher wants to study {t} in college students. What is the independent variable?",
        "Which of the following is a symptom of {t}?",
        "According to {p}, {t} develops when",
        "A person who blames others for his own feelings is using which defense mechanism?",
        "In an experiment on {t}, participants who were told that {s2} were more likely to",
        "Some intelligence researchers like {p} complain that schools focus too much on",
        "A patient reports hearing voices and having disorganized speech. What is the most likely diagnosis?",
        "Which brain structure is most involved in {t}?",
        "A school psychologist is asked to assess a student for {t}. The first step should be",
    ],
    scenarios=["begin therapy with her", "go out for coffee", "receive a copy of his test results",
                "have a session with his spouse present", "exchange services instead of paying fees"],
    scenarios2=["others had already agreed", "they would be paid", "the task was boring", "an expert was watching"],
)

# Questions written the way scientific exam sources write them, with LaTeX.
LATEX = {
    "chemistry": [
        r"Calculate $\Delta H$ for the reaction at $298 \mathrm{~K}$ given $\Delta U = -<k>.<m> \mathrm{~kJ} \mathrm{~mol}^{-1}$.",
        r"The vapour pressure of benzene is $<n> \mathrm{Torr}$ at $60^{\circ} \mathrm{C}$. Estimate <t>.",
        r"Find the energy of the $\mathrm{H}_2$ molecule using <t>.",
    ],
    "physics": [
        r"A particle of mass $m = <k> \mathrm{~kg}$ moves with speed $v = <m> \mathrm{~m/s}$. Find its kinetic energy.",
        r"An electron is accelerated through $<n> \mathrm{~V}$. What is its de Broglie wavelength?",
        r"Compute the magnetic field at the centre of a loop of radius $<k> \mathrm{~cm}$ carrying $<m> \mathrm{~A}$.",
    ],
    "math": [
        r"Evaluate $\int_0^<k> x^<m> \, dx$.",
        r"Let $f(x) = x^<k> - <m>x$. Find all critical points of $f$.",
        r"What is $\sum_{n=1}^{\infty} \frac{1}{<k>^n}$?",
    ],
}


def latex(template, values):
    for key in ("k", "m", "n", "t"):
        template = template.replace(f"<{key}>", str(values[key]))
    return template


LABELS = sorted(D)


def terms(entry, key="terms"):
    return [" ".join(t.split()) for t in entry[key].split(",") if t.strip()]


def cap(text):
    return text[:1].upper() + text[1:]


def question(rng, label):
    entry = D[label]
    ts = terms(entry)
    t, t2 = rng.sample(ts, 2)
    people = [p.strip() for p in entry.get("people", "").split(",") if p.strip()] or ["the author"]
    values = dict(
        t=t, T=cap(t), t2=t2, d=entry["name"], p=rng.choice(people),
        n=rng.choice([12, 20, 25, 40, 50, 75, 100, 120, 150, 200, 250, 500, 1200, 2500, 40000]),
        n2=rng.choice([30, 60, 80, 90, 300, 600, 800, 1500, 5000, 50000]),
        n3=rng.choice([10000, 28600, 45000, 72000]),
        k=rng.randint(2, 9), m=rng.randint(2, 12), y=rng.randint(1500, 1990),
        q=rng.choice(entry.get("quotes", ["the text"])), q2=rng.choice(entry.get("claims", ["the text"])),
        s=rng.choice(entry.get("scenarios", entry.get("actions", ["acted"]))),
        s2=rng.choice(entry.get("scenarios2", ["the task mattered"])),
        w=rng.choice(entry.get("words", "thing").split(", ")),
        n2l=rng.choice(["Ryan", "Lee", "Smith", "Garcia", "Chen"]),
    )
    if label == "other" and rng.random() < 0.5:
        values["t2"] = rng.choice(terms(entry, "trivia"))
    template = rng.choice(entry["templates"]) if rng.random() < 0.55 else rng.choice(GENERIC)
    text = template.format(**values)
    if label in LATEX and rng.random() < 0.15:
        text = latex(rng.choice(LATEX[label]), values)
    if rng.random() < 0.1:
        text = text.lower()
    return text


def generate(seed, per_label, heldout_per_label):
    rng = random.Random(seed)
    train, held = [], []
    for label in LABELS:
        seen = set()
        rows = []
        attempts = 0
        while len(rows) < per_label + heldout_per_label and attempts < 50 * per_label:
            attempts += 1
            text = question(rng, label)
            # Real questions are often long: some examples chain two or three of a label's
            # questions, so length is no cue and the model pools over many words.
            if rng.random() < 0.25:
                text = " ".join([text] + [question(rng, label) for _ in range(rng.randint(1, 2))])
            if text in seen:
                continue
            seen.add(text)
            rows.append({"text": text, "label": label})
        held += rows[:heldout_per_label]
        train += rows[heldout_per_label:]
    rng.shuffle(train)
    return train, held
