import './base.css';
import './importoffer.css';
import './envbanner.css';
import './shared.css';
